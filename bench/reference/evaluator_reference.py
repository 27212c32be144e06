"""Reference figures for feedbackloop's evaluator, from a replay's output folder.

    evaluator_reference.py DIR [--windows 1h,1d] [--rolling-size 1000]
                               [--fairness ATTR ...] [--calibration-bins 10]

Reads DIR/labelled.jsonl (labelled examples and corrections, in processing
order) and DIR/unlabelled.jsonl (predictions that expired without a label)
and prints, as JSON Lines shaped like the replay's metrics.jsonl lines
({"model", "model_version", "role", "segment", "window", "window_start",
"window_end", "metric", "value", "count"}), the figures the evaluator should
have written for binary models. Computed from the definitions alone (it
shares no code with the TypeScript), by scikit-learn where it defines a
metric and by numpy where it does not:

- Effective examples: in file order, an example with correction_of = X
  replaces the example whose example_id is X (the new label counts, the old
  one no longer). Label coverage and delay count first labels only.
- Role `champion` (the prediction's score; shadow scores are not
  recomputed), version = model_version; segments `*` and `attr=value`.
- Windows: `total` (window_start 0) and tumbling windows by the prediction's
  timestamp, window_start = floor(timestamp / size) * size.
- Binary figures (predicted positive: score >= threshold; a ratio with a zero
  denominator is null), log loss clipped to [1e-15, 1 - 1e-15], ROC AUC
  (null with one class), average precision (null without positives), ECE
  over equal-width bins (a score of exactly 1 in the last bin).
- Champion extras: labelled, expired, label_coverage, label_delay_p50/p95
  (lower quantile: the smallest delay d with #(delay <= d) >= q * n; a
  negative delay, feedback stamped before its prediction, counts as 0).
- `last_<N>`: the final state of each cell's sliding window of the last N
  examples in label-arrival order, taken to be the file's order (it is the
  evaluator's when the replay ran with one partition); a correction takes the example it
  corrects out of the window if it is still there and enters as the newest.
  window_start / window_end are the label times of its oldest and newest.
- Fairness (segment `attr=*`): demographic_parity_difference,
  equal_opportunity_difference (max - min over groups, null with fewer than
  two), smallest_group_count and groups.

Used by test/integration/evaluator-reference.test.ts.
"""
import argparse
import json
import math
import sys
from collections import defaultdict

import numpy as np
from sklearn import metrics as m

EPSILON = 1e-15
UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def duration(text):
    for unit in sorted(UNITS, key=len, reverse=True):
        if text.endswith(unit) and text[: -len(unit)].isdigit():
            return int(text[: -len(unit)]) * UNITS[unit]
    raise SystemExit(f"evaluator_reference: {text!r} is not a duration (e.g. 1h, 1d)")


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def defined(x):
    """A float, or None for sklearn's NaN (zero_division=np.nan)."""
    x = float(x)
    return None if math.isnan(x) else x


def ratio(num, den):
    return None if den == 0 else float(num / den)


def binary_figures(rows, bins):
    """The figures of BinaryMetrics over (label, score, threshold) rows."""
    n = len(rows)
    if n == 0:
        figures = dict.fromkeys(
            ["accuracy", "precision", "recall", "f1", "specificity", "fpr", "fnr", "mcc", "log_loss", "brier", "roc_auc", "pr_auc", "ece"]
        )
        return {"count": 0, "positives": 0, "tp": 0, "fp": 0, "tn": 0, "fn": 0, **figures}
    y = np.array([r[0] for r in rows], dtype=int)
    s = np.array([r[1] for r in rows], dtype=float)
    t = np.array([r[2] for r in rows], dtype=float)
    pred = (s >= t).astype(int)
    tn, fp, fn, tp = (int(v) for v in m.confusion_matrix(y, pred, labels=[0, 1]).ravel())
    both = 0 < y.sum() < n
    mcc_defined = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn) != 0
    clipped = np.clip(s, EPSILON, 1 - EPSILON)
    idx = np.minimum(bins - 1, np.floor(s * bins).astype(int))
    ece = sum(abs(s[idx == b].sum() - y[idx == b].sum()) for b in range(bins)) / n
    return {
        "count": n,
        "positives": tp + fn,
        "tp": tp, "fp": fp, "tn": tn, "fn": fn,
        "accuracy": float(m.accuracy_score(y, pred)),
        "precision": defined(m.precision_score(y, pred, labels=[0, 1], zero_division=np.nan)),
        "recall": defined(m.recall_score(y, pred, labels=[0, 1], zero_division=np.nan)),
        "f1": defined(m.f1_score(y, pred, labels=[0, 1], zero_division=np.nan)),
        "specificity": defined(m.recall_score(y, pred, labels=[0, 1], pos_label=0, zero_division=np.nan)),
        "fpr": ratio(fp, fp + tn),
        "fnr": ratio(fn, fn + tp),
        "mcc": float(m.matthews_corrcoef(y, pred)) if mcc_defined else None,
        # Probabilities clipped to [1e-15, 1 - 1e-15] first (sklearn's own clip, machine epsilon, then changes nothing).
        "log_loss": float(m.log_loss(y, clipped, labels=[0, 1])),
        "brier": float(m.brier_score_loss(y, s, labels=[0, 1])),
        "roc_auc": float(m.roc_auc_score(y, s)) if both else None,
        "pr_auc": float(m.average_precision_score(y, s)) if tp + fn > 0 else None,
        "ece": float(ece),
    }


def lower_quantile(values, q):
    """The smallest v with #(x <= v) >= q * n (the minimum for q = 0)."""
    if not values:
        return None
    xs = np.sort(np.maximum(0, np.array(values, dtype=float)))
    rank = q * len(xs)
    for i, x in enumerate(xs):
        if i + 1 >= rank:
            return float(x)
    return float(xs[-1])


def gap(xs):
    return None if len(xs) < 2 else max(xs) - min(xs)


def segments_of(example):
    return ["*"] + [f"{attr}={example['segments'][attr]}" for attr in sorted(example["segments"])]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir")
    parser.add_argument("--windows", default="1h,1d")
    parser.add_argument("--rolling-size", type=int, default=1000)
    parser.add_argument("--fairness", nargs="*", default=[])
    parser.add_argument("--calibration-bins", type=int, default=10)
    args = parser.parse_args()
    windows = [(name, duration(name)) for name in args.windows.split(",") if name]
    bins = args.calibration_bins

    labelled = read_jsonl(f"{args.dir}/labelled.jsonl")
    expired = read_jsonl(f"{args.dir}/unlabelled.jsonl")
    binary_models = {e["model"] for e in labelled + expired}
    for e in labelled:
        if e["label"] not in (0, 1):
            binary_models.discard(e["model"])
    for model in sorted({e["model"] for e in labelled} - binary_models):
        print(f"evaluator_reference: {model} is not binary, left out", file=sys.stderr)

    def windows_of(example):
        out = [("total", 0, None)]
        for name, ms in windows:
            start = example["timestamp"] // ms * ms
            out.append((name, start, start + ms))
        return out

    # Effective examples (corrections replace what they correct) and the sliding windows, in file order.
    effective = {}
    first = []
    rolling = defaultdict(list)  # (model, version, segment) -> examples, oldest first
    for e in labelled:
        if e["model"] not in binary_models:
            continue
        if e["correction_of"] is not None:
            old = effective.pop(e["correction_of"])  # KeyError: a correction of nothing (not in our streams)
            for segment in segments_of(old):
                window = rolling[(old["model"], old["model_version"], segment)]
                if old in window:
                    window.remove(old)
        else:
            first.append(e)
        effective[e["example_id"]] = e
        for segment in segments_of(e):
            window = rolling[(e["model"], e["model_version"], segment)]
            window.append(e)
            if len(window) > args.rolling_size:
                window.pop(0)

    # Per (model, version, segment, window, start): effective examples, first labels, expired predictions.
    cells = defaultdict(lambda: {"rows": [], "first": 0, "delays": [], "expired": 0, "end": 0})
    for kind, examples in (("effective", effective.values()), ("first", first), ("expired", expired)):
        for e in examples:
            if e["model"] not in binary_models:
                continue
            for segment in segments_of(e):
                for name, start, end in windows_of(e):
                    cell = cells[(e["model"], e["model_version"], segment, name, start)]
                    cell["end"] = end if end is not None else max(cell["end"], e["timestamp"])
                    if kind == "effective":
                        cell["rows"].append((e["label"], e["score"], e["threshold"]))
                    elif kind == "first":
                        cell["first"] += 1
                        if e["label_delay_ms"] is not None:
                            cell["delays"].append(e["label_delay_ms"])
                    else:
                        cell["expired"] += 1

    def emit(model, version, segment, window, start, end, metric, value, count):
        line = {
            "model": model, "model_version": version, "role": "champion", "segment": segment, "window": window,
            "window_start": start, "window_end": end, "metric": metric, "value": value, "count": count,
        }
        sys.stdout.write(json.dumps(line) + "\n")

    for (model, version, segment, window, start), cell in sorted(cells.items()):
        where = (model, version, segment, window, start, cell["end"])
        figures = cell["figures"] = binary_figures(cell["rows"], bins)
        for metric, value in figures.items():
            emit(*where, metric, value, figures["count"])
        covered = cell["first"] + cell["expired"]
        emit(*where, "labelled", cell["first"], covered)
        emit(*where, "expired", cell["expired"], covered)
        emit(*where, "label_coverage", ratio(cell["first"], covered), covered)
        emit(*where, "label_delay_p50", lower_quantile(cell["delays"], 0.5), len(cell["delays"]))
        emit(*where, "label_delay_p95", lower_quantile(cell["delays"], 0.95), len(cell["delays"]))

    for (model, version, segment), window in sorted(rolling.items()):
        if not window:
            continue
        figures = binary_figures([(e["label"], e["score"], e["threshold"]) for e in window], bins)
        where = (model, version, segment, f"last_{args.rolling_size}", window[0]["feedback_timestamp"], window[-1]["feedback_timestamp"])
        for metric, value in figures.items():
            emit(*where, metric, value, figures["count"])

    # Fairness: per (model, version, window, start), across the values of each attribute with examples there.
    for attr in args.fairness:
        groups = defaultdict(list)
        for (model, version, segment, window, start), cell in cells.items():
            if segment.startswith(f"{attr}=") and cell["rows"]:
                groups[(model, version, window, start)].append((cell, cell["figures"]))
        for (model, version, window, start), found in sorted(groups.items()):
            rates = [(f["tp"] + f["fp"]) / f["count"] for _, f in found]
            tprs = [f["recall"] for _, f in found if f["recall"] is not None]
            total = sum(f["count"] for _, f in found)
            end = max(c["end"] for c, _ in found) if window == "total" else found[0][0]["end"]
            where = (model, version, f"{attr}=*", window, start, end)
            emit(*where, "demographic_parity_difference", gap(rates), total)
            emit(*where, "equal_opportunity_difference", gap(tprs), total)
            emit(*where, "smallest_group_count", min(f["count"] for _, f in found), total)
            emit(*where, "groups", len(found), total)


if __name__ == "__main__":
    main()
