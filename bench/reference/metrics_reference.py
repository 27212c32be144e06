"""Reference figures for feedbackloop's metrics, computed with scikit-learn.

Reads JSON from stdin: {"binary": [{"label", "score", "threshold"}...],
"regression": [{"label", "score"}...], "bins": 10} and prints the figures our
BinaryMetrics / RegressionMetrics compute, by scikit-learn where it defines
them and by plain numpy from the stated definition where it does not (ECE,
log loss clipped at 1e-15). Used by test/integration/metrics-reference.test.ts.
"""
import json
import sys

import numpy as np
from sklearn import metrics as m


def ratio(num, den):
    return None if den == 0 else float(num / den)


def binary(rows, bins):
    y = np.array([r["label"] for r in rows], dtype=float)
    s = np.array([r["score"] for r in rows], dtype=float)
    t = np.array([r["threshold"] for r in rows], dtype=float)
    pred = (s >= t).astype(int)
    tn, fp, fn, tp = m.confusion_matrix(y.astype(int), pred, labels=[0, 1]).ravel()
    p = np.clip(s, 1e-15, 1 - 1e-15)
    idx = np.minimum(bins - 1, np.floor(s * bins).astype(int))
    ece = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            ece += mask.sum() / len(s) * abs(s[mask].mean() - y[mask].mean())
    return {
        "count": len(rows), "tp": int(tp), "fp": int(fp), "tn": int(tn), "fn": int(fn),
        "accuracy": float(m.accuracy_score(y, pred)),
        "precision": float(m.precision_score(y, pred, zero_division=np.nan)),
        "recall": float(m.recall_score(y, pred, zero_division=np.nan)),
        "f1": float(m.f1_score(y, pred, zero_division=np.nan)),
        "specificity": ratio(tn, tn + fp),
        "fpr": ratio(fp, fp + tn),
        "fnr": ratio(fn, fn + tp),
        "mcc": float(m.matthews_corrcoef(y, pred)),
        "log_loss": float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)))),
        "log_loss_sklearn": float(m.log_loss(y, s, labels=[0, 1])),
        "brier": float(m.brier_score_loss(y, s)),
        "roc_auc": float(m.roc_auc_score(y, s)),
        "pr_auc": float(m.average_precision_score(y, s)),
        "ece": float(ece),
    }


def regression(rows):
    y = np.array([r["label"] for r in rows], dtype=float)
    s = np.array([r["score"] for r in rows], dtype=float)
    return {
        "count": len(rows),
        "mae": float(m.mean_absolute_error(y, s)),
        "rmse": float(np.sqrt(m.mean_squared_error(y, s))),
        "r2": float(m.r2_score(y, s)),
        "mape": float(m.mean_absolute_percentage_error(y, s)),
    }


def main():
    data = json.load(sys.stdin)
    bins = data.get("bins", 10)
    out = {}
    for name, rows in data.get("binary", {}).items():
        out[name] = binary(rows, bins)
    for name, rows in data.get("regression", {}).items():
        out[name] = regression(rows)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
