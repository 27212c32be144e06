"""Reference figures for feedbackloop's multi-class and multi-label metrics, by scikit-learn.

Reads JSON from stdin:
  {"multiclass": {name: {"classes": K, "top_k": k, "rows": [{"label", "predicted", "probabilities", "weight"?}...]}},
   "multilabel": {name: {"labels": L, "rows": [{"labels": [0/1...], "predicted": [0/1...], "probabilities", "weight"?}...]}}}
and prints {name: figures} with the figures our MulticlassMetrics / MultilabelMetrics
compute (core/metrics/multiclass.ts, multilabel.ts), NaN printed as null.

Multi-class rejections (label -1: true class unknown, decision wrong) become an
extra class K that is left out of `labels=`: they then count in accuracy (as
wrong) and in the predicted class's precision (as a false positive) and in no
recall or support; the probabilistic figures, kappa and the confusion matrix
take only the rows whose true class is known. Used by
test/integration/metrics-reference.test.ts.
"""
import json
import sys
import warnings

import numpy as np
from sklearn import metrics as m
from sklearn.exceptions import UndefinedMetricWarning


def clean(value):
    """NaN (sklearn's zero_division=np.nan) as None; numpy numbers and arrays as plain JSON."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [clean(v) for v in value]
    value = float(value)
    return None if np.isnan(value) else value


def weights_of(rows):
    if any("weight" in r for r in rows):
        return np.array([r.get("weight", 1.0) for r in rows], dtype=float)
    return None


def averages(y, pred, labels, w, out, kinds):
    for average in kinds:
        p, r, f, _ = m.precision_recall_fscore_support(y, pred, labels=labels, average=average, zero_division=np.nan, sample_weight=w)
        out[f"{average}_precision"], out[f"{average}_recall"], out[f"{average}_f1"] = clean(p), clean(r), clean(f)
    p, r, f, s = m.precision_recall_fscore_support(y, pred, labels=labels, average=None, zero_division=np.nan, sample_weight=w)
    out["precision"], out["recall"], out["f1"], out["support"] = clean(p), clean(r), clean(f), clean(s)


def multiclass(spec):
    k, rows = spec["classes"], spec["rows"]
    labels = list(range(k))
    y = np.array([r["label"] if r["label"] >= 0 else k for r in rows])
    pred = np.array([r["predicted"] for r in rows])
    proba = np.array([r["probabilities"] for r in rows], dtype=float)
    w = weights_of(rows)
    known = y < k
    wk = None if w is None else w[known]
    out = {"count": float(len(rows) if w is None else w.sum()), "accuracy": float(m.accuracy_score(y, pred, sample_weight=w))}
    out["rejected"] = float((~known).sum() if w is None else w[~known].sum())
    averages(y, pred, labels, w, out, ["macro", "micro", "weighted"])
    yk, pk, prk = y[known], pred[known], proba[known]
    out["log_loss"] = float(m.log_loss(yk, prk, labels=labels, sample_weight=wk))
    out["brier"] = float(m.brier_score_loss(yk, prk, labels=labels, sample_weight=wk))
    out["top_k_accuracy"] = float(m.top_k_accuracy_score(yk, prk, k=spec["top_k"], labels=labels, sample_weight=wk))
    out["cohen_kappa"] = clean(m.cohen_kappa_score(yk, pk, labels=labels, sample_weight=wk))
    out["confusion"] = clean(m.confusion_matrix(yk, pk, labels=labels, sample_weight=wk).ravel())
    out["rejections"] = clean(np.bincount(pred[~known], weights=None if w is None else w[~known], minlength=k))
    return out


def multilabel(spec):
    n_labels, rows = spec["labels"], spec["rows"]
    y = np.array([r["labels"] for r in rows], dtype=int)
    pred = np.array([r["predicted"] for r in rows], dtype=int)
    proba = np.array([r["probabilities"] for r in rows], dtype=float)
    w = weights_of(rows)
    out = {"count": float(len(rows) if w is None else w.sum())}
    averages(y, pred, None, w, out, ["macro", "micro", "weighted", "samples"])
    out["hamming_loss"] = float(m.hamming_loss(y, pred, sample_weight=w))
    out["subset_accuracy"] = float(m.accuracy_score(y, pred, sample_weight=w))
    out["jaccard"] = float(m.jaccard_score(y, pred, average="samples", zero_division=1, sample_weight=w))
    out["log_loss"] = float(np.mean([m.log_loss(y[:, l], proba[:, l], labels=[0, 1], sample_weight=w) for l in range(n_labels)]))
    return out


def main():
    warnings.simplefilter("ignore", UndefinedMetricWarning)
    data = json.load(sys.stdin)
    out = {}
    for name, spec in data.get("multiclass", {}).items():
        out[name] = multiclass(spec)
    for name, spec in data.get("multilabel", {}).items():
        out[name] = multilabel(spec)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
