"""Reference curves for feedbackloop's report, computed with scikit-learn.

Reads JSON from stdin: {name: {"labels": [...], "scores": [...], "weights":
[...] or null, "bins": 10}} and prints, per name, scikit-learn's full ROC
curve (roc_curve with drop_intermediate=False), precision-recall curve
(precision_recall_curve) and reliability curve (calibration_curve, uniform
bins: prob_true and prob_pred of the non-empty bins, and the count of each
such bin). Used by test/integration/curves-reference.test.ts, which checks
that every point of our bounded curves is one of these.
"""
import json
import sys

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve, roc_curve


def curves(spec):
    y = np.array(spec["labels"], dtype=int)
    s = np.array(spec["scores"], dtype=float)
    w = None if spec.get("weights") is None else np.array(spec["weights"], dtype=float)
    fpr, tpr, roc_thresholds = roc_curve(y, s, sample_weight=w, drop_intermediate=False)
    precision, recall, pr_thresholds = precision_recall_curve(y, s, sample_weight=w)
    bins = spec.get("bins", 10)
    prob_true, prob_pred = calibration_curve(y, s, n_bins=bins, strategy="uniform")
    edges = np.linspace(0.0, 1.0, bins + 1)
    ids = np.searchsorted(edges[1:-1], s)
    counts = np.bincount(ids, minlength=bins)
    return {
        "roc": {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": [None if not np.isfinite(t) else float(t) for t in roc_thresholds]},
        "pr": {"precision": precision.tolist(), "recall": recall.tolist(), "thresholds": pr_thresholds.tolist()},
        "calibration": {"prob_true": prob_true.tolist(), "prob_pred": prob_pred.tolist(), "counts": [int(c) for c in counts if c > 0]},
    }


def main():
    spec = json.load(sys.stdin)
    json.dump({name: curves(s) for name, s in spec.items()}, sys.stdout)


if __name__ == "__main__":
    main()
