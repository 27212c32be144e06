"""The reference loop for bench/replay.ts: what `feedbackloop replay` does for
one binary model, written as directly as River allows, over the same JSONL
files.

  .venv/bin/python bench/reference/river_loop.py PREDICTIONS FEEDBACK

- The two files are merged by timestamp (predictions first on ties, each file
  in its order), as replay merges them.
- Join: a dict by prediction_id. A prediction is scored by the challenger
  when it arrives (before any label of it is learned) and kept with its
  champion score; feedback whose prediction is not there is counted as
  unmatched; a prediction is forgotten join_window after its timestamp (the
  joiner expires it then). Trust as the joiner ranks it: EXPERT_REVIEW > AUTO_VALIDATED >
  USER_CONFIRMED = USER_REJECTED, the later winning among equals; a winning
  label that differs from the current one is a correction.
- Challenger: River's StandardScaler (numeric features) + OneHotEncoder
  (categoricals) + LogisticRegression(SGD lr 0.01), the hyperparameters of
  our `logreg` preset (core/learn/presets.ts). It learns every label and
  every corrected label (learner.train_on_corrections: true). Like ours, it
  scores no prediction before it has learned 1,000 labels (our first
  snapshot); unlike ours, it then scores with the model as it is, not with
  the last snapshot.
- Five metrics for the champion and for the challenger: Accuracy, Precision,
  Recall (predicted positive: score >= threshold), LogLoss, ROCAUC (River's
  default 10 thresholds). A correction reverts the replaced label's update,
  as our evaluator does.

Prints one JSON object: events, seconds (reading included, interpreter start
not), events_per_s, counts and the final figures.
"""

import json
import sys
import time
from collections import deque

import river
from river import compose, linear_model, metrics, optim, preprocessing

NUMERIC = ["amount", "account_age_days", "hour", "items"]
CATEGORICAL = ["country"]
JOIN_WINDOW_MS = 7 * 24 * 3600 * 1000  # joiner.join_window in the bench's config
FIRST_SNAPSHOT = 1000  # learner.snapshot_every: our challenger scores nothing before its first snapshot
RANK = {"EXPERT_REVIEW": 3, "AUTO_VALIDATED": 2, "USER_CONFIRMED": 1, "USER_REJECTED": 1}
METRICS = [metrics.Accuracy, metrics.Precision, metrics.Recall, metrics.LogLoss, metrics.ROCAUC]


def challenger():
    union = compose.TransformerUnion(
        compose.Select(*NUMERIC) | preprocessing.StandardScaler(),
        compose.Select(*CATEGORICAL) | preprocessing.OneHotEncoder(drop_zeros=True),
    )
    return union | linear_model.LogisticRegression(optimizer=optim.SGD(0.01))


class Figures:
    """The five metrics of one role; the label metrics take the class, the others the probability."""

    def __init__(self):
        self.metrics = [m() for m in METRICS]

    def update(self, y, p, threshold, revert=False):
        for m in self.metrics:
            pred = p >= threshold if isinstance(m, (metrics.Accuracy, metrics.Precision, metrics.Recall)) else p
            (m.revert if revert else m.update)(y, pred)

    def values(self):
        return {type(m).__name__: m.get() for m in self.metrics}


def events(path):
    """(timestamp, record) of each line, in file order."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                e = json.loads(line)
                yield e["timestamp"], e


def merged(predictions, feedback):
    """Both files by timestamp, predictions first on ties (each file is in timestamp order)."""
    p, f = events(predictions), events(feedback)
    np, nf = next(p, None), next(f, None)
    while np is not None or nf is not None:
        if nf is None or (np is not None and np[0] <= nf[0]):
            yield False, np[1]
            np = next(p, None)
        else:
            yield True, nf[1]
            nf = next(f, None)


class Loop:
    def __init__(self):
        self.model = challenger()
        self.champion = Figures()
        self.challenger = Figures()
        self.pending = {}  # prediction_id -> [x, champion score, threshold, challenger score, label, rank, ts]
        self.arrivals = deque()  # (timestamp, prediction_id) in arrival order, for expiry
        self.learned = 0
        self.counts = {"predictions": 0, "feedback": 0, "labelled": 0, "corrections": 0, "unmatched": 0, "shadow_scored": 0}

    def prediction(self, e):
        self.counts["predictions"] += 1
        x = dict(e["features"])
        x.update(e["categorical"])
        shadow = None
        if self.learned >= FIRST_SNAPSHOT:
            shadow = self.model.predict_proba_one(x).get(True, 0.5)
            self.counts["shadow_scored"] += 1
        self.pending[e["prediction_id"]] = [x, e["score"], e["threshold"], shadow, None, 0, 0]
        self.arrivals.append((e["timestamp"], e["prediction_id"]))

    def expire(self, now):
        """Forgets predictions whose join window has passed (event time: the latest timestamp seen)."""
        arrivals = self.arrivals
        while arrivals and arrivals[0][0] + JOIN_WINDOW_MS <= now:
            self.pending.pop(arrivals.popleft()[1], None)

    def feedback(self, e):
        self.counts["feedback"] += 1
        entry = self.pending.get(e["prediction_id"])
        if entry is None or e["label"] is None:
            self.counts["unmatched"] += 1
            return
        rank, y = RANK[e["feedback_type"]], e["label"] == 1
        if entry[4] is not None and (rank < entry[5] or (rank == entry[5] and e["timestamp"] < entry[6])):
            return  # outranked: changes nothing
        x, score, threshold, shadow, old = entry[0], entry[1], entry[2], entry[3], entry[4]
        entry[5], entry[6] = rank, e["timestamp"]
        if old == y:
            return  # the same label, now better backed
        if old is None:
            self.counts["labelled"] += 1
        else:
            self.counts["corrections"] += 1
            self.champion.update(old, score, threshold, revert=True)
            if shadow is not None:
                self.challenger.update(old, shadow, 0.5, revert=True)
        entry[4] = y
        self.champion.update(y, score, threshold)
        if shadow is not None:
            self.challenger.update(y, shadow, 0.5)
        self.model.learn_one(x, y)
        self.learned += 1


def main():
    predictions, feedback = sys.argv[1], sys.argv[2]
    loop = Loop()
    start = time.perf_counter()
    now = 0
    for is_feedback, e in merged(predictions, feedback):
        if e["timestamp"] > now:
            now = e["timestamp"]
            loop.expire(now)
        (loop.feedback if is_feedback else loop.prediction)(e)
    seconds = time.perf_counter() - start
    n = loop.counts["predictions"] + loop.counts["feedback"]
    print(json.dumps({
        "river": river.__version__,
        "events": n,
        "seconds": seconds,
        "events_per_s": n / seconds,
        "counts": loop.counts,
        "champion": loop.champion.values(),
        "challenger": loop.challenger.values(),
    }))


if __name__ == "__main__":
    main()
