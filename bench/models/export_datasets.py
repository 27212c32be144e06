"""Writes the benchmark streams as JSON Lines for both sides of bench/models.

Usage: python export_datasets.py OUT_DIR

- phishing.jsonl, bananas.jsonl: River's bundled datasets (no download), in
  River's order.
- drift.jsonl: a seeded synthetic binary stream with drift: 20 numeric
  features on very different scales, a low-cardinality categorical (color,
  5 values, one-hot encoded) and a high-cardinality one (user, 2000 values,
  hashed). The concept changes abruptly half way (new weights, new color
  effects) and feature f0's mean drifts slowly throughout.
- drift-reg.jsonl: the same generator with a numeric target.
- Multi-class, all shipped with the packages (no download):
  imagesegments.jsonl: River's ImageSegments (2,310 examples, 7 classes,
  18 features), in River's order; digits.jsonl: scikit-learn's load_digits
  (1,797 examples, 10 classes, 64 pixels), in its order; wine.jsonl:
  scikit-learn's load_wine (178 examples, 3 classes, 13 features), shuffled
  with random.Random(0) because the file is sorted by class.

Each line: {"features": {name: number}, "categorical": {name: string}, "y": 0|1|number|class name}.
meta.json: per dataset, its task and which features go to which encoder.
"""
import json
import math
import os
import random
import sys

from river import datasets


def write(path, rows):
    with open(path, "w") as f:
        for features, categorical, y in rows:
            f.write(json.dumps({"features": features, "categorical": categorical, "y": y}) + "\n")


def river_rows(dataset):
    for x, y in dataset:
        yield {k: float(v) for k, v in x.items()}, {}, 1 if y else 0


def river_classes(dataset):
    for x, y in dataset:
        yield {k: float(v) for k, v in x.items()}, {}, str(y)


def sklearn_classes(bunch, shuffle_seed=None):
    names = [str(n) for n in bunch.feature_names]
    rows = [({n: float(v) for n, v in zip(names, row)}, {}, str(int(y))) for row, y in zip(bunch.data, bunch.target)]
    if shuffle_seed is not None:
        random.Random(shuffle_seed).shuffle(rows)
    return rows, names


def drifting(n, seed, task):
    rng = random.Random(seed)
    d = 20
    scales = [1, 1, 1, 1, 10, 10, 10, 100, 100, 1000, 0.1, 0.1, 0.01, 1, 5, 5, 50, 1, 2, 20][:d]
    before = [rng.gauss(0, 1) for _ in range(d)]
    after = [w if j % 3 == 0 else rng.gauss(0, 1) for j, w in enumerate(before)]
    colors = ["red", "green", "blue", "yellow", "black"]
    color_before = {c: rng.gauss(0, 1) for c in colors}
    color_after = {c: rng.gauss(0, 1) for c in colors}
    users = 2000
    user_effect = [rng.gauss(0, 1) for _ in range(users)]
    for t in range(n):
        late = t >= n // 2
        w = after if late else before
        drift = 1.5 * t / n  # f0's mean moves from 0 to 1.5
        raw = [rng.gauss(drift if j == 0 else 0.0, 1.0) for j in range(d)]
        color = colors[min(4, int(rng.expovariate(1.0)))]
        user = int(users * rng.random() ** 2)
        z = 0.5 * sum(wj * xj for wj, xj in zip(w, raw)) / math.sqrt(d) * 3
        z += (color_after if late else color_before)[color] + 0.7 * user_effect[user]
        features = {f"f{j}": raw[j] * scales[j] for j in range(d)}
        categorical = {"color": color, "user": f"u{user}"}
        if task == "binary":
            y = 1 if rng.random() < 1 / (1 + math.exp(-z)) else 0
        else:
            y = 10 + 3 * z + rng.gauss(0, 1)
        yield features, categorical, y


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    numeric_phishing = None
    rows = list(river_rows(datasets.Phishing()))
    numeric_phishing = list(rows[0][0].keys())
    write(os.path.join(out, "phishing.jsonl"), rows)
    rows = list(river_rows(datasets.Bananas()))
    write(os.path.join(out, "bananas.jsonl"), rows)
    write(os.path.join(out, "drift.jsonl"), drifting(50_000, 42, "binary"))
    write(os.path.join(out, "drift-reg.jsonl"), drifting(30_000, 43, "regression"))
    from sklearn.datasets import load_digits, load_wine

    rows = list(river_classes(datasets.ImageSegments()))
    numeric_segments = list(rows[0][0].keys())
    write(os.path.join(out, "imagesegments.jsonl"), rows)
    rows, numeric_digits = sklearn_classes(load_digits())
    write(os.path.join(out, "digits.jsonl"), rows)
    rows, numeric_wine = sklearn_classes(load_wine(), shuffle_seed=0)
    write(os.path.join(out, "wine.jsonl"), rows)
    synthetic = {"numeric": [f"f{j}" for j in range(20)], "onehot": ["color"], "hashed": ["user"]}
    meta = [
        {"name": "phishing", "task": "binary", "numeric": numeric_phishing, "onehot": [], "hashed": []},
        {"name": "bananas", "task": "binary", "numeric": ["1", "2"], "onehot": [], "hashed": []},
        {"name": "drift", "task": "binary", **synthetic},
        {"name": "drift-reg", "task": "regression", **synthetic},
        {"name": "imagesegments", "task": "multiclass", "numeric": numeric_segments, "onehot": [], "hashed": []},
        {"name": "digits", "task": "multiclass", "numeric": numeric_digits, "onehot": [], "hashed": []},
        {"name": "wine", "task": "multiclass", "numeric": numeric_wine, "onehot": [], "hashed": []},
    ]
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)


if __name__ == "__main__":
    main()
