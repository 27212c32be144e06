"""River's side of bench/models: progressive validation of River's models on
the exported streams, with the hyperparameters of models.json.

Usage: python compare.py DATA_DIR OUT_JSON [--only DATASET[,DATASET...]]

For each dataset and model: one pass of predict-then-learn gives the metrics
(accuracy with p >= 0.5, log loss with p clipped to [1e-15, 1 - 1e-15], or
MAE; multi-class: accuracy of the arg-max, the first class on a tie, and the
log loss of the true class's probability, 0 for a class not seen yet, clipped
the same way), timed; when a pass takes under MIN_SECONDS, more passes on fresh clones
are timed until it adds up (throughput = examples / seconds). CPython has no
JIT to warm up, so the first pass counts.
"""
import json
import math
import os
import sys
import time

from river import compose, linear_model, multiclass, naive_bayes, optim, preprocessing

MIN_SECONDS = 0.5
HERE = os.path.dirname(os.path.abspath(__file__))


def optimizer(o):
    return {
        "sgd": lambda: optim.SGD(o["lr"]),
        "adagrad": lambda: optim.AdaGrad(o["lr"], o["eps"]),
        "adam": lambda: optim.Adam(o["lr"], o["beta1"], o["beta2"], o["eps"]),
    }[o["kind"]]()


def estimator(spec):
    a, h = spec["algorithm"], spec["hyperparameters"]
    if a == "softmax_regression":
        # River's SoftmaxRegression has no intercept and no L1: models.json runs ours with interceptLr 0, l1 0.
        if h.get("interceptLr", 0.01) != 0 or h.get("l1", 0) != 0:
            raise ValueError("softmax_regression: River has no intercept nor L1; set interceptLr and l1 to 0")
        return linear_model.SoftmaxRegression(optimizer=optimizer(h.get("optimizer", {"kind": "sgd", "lr": 0.01})), l2=h.get("l2", 0))
    if a == "one_vs_rest":
        return multiclass.OneVsRestClassifier(estimator(h["estimator"]))
    if a == "gaussian_nb_multiclass":
        return naive_bayes.GaussianNB()
    if a in ("logistic_regression", "linear_regression"):
        opt = optimizer(h.get("optimizer", {"kind": "sgd", "lr": 0.01}))
        cls = linear_model.LogisticRegression if a == "logistic_regression" else linear_model.LinearRegression
        return cls(
            optimizer=opt,
            l2=h.get("l2", 0.0),
            l1=h.get("l1", 0.0),
            intercept_init=h.get("interceptInit", 0.0),
            intercept_lr=h.get("interceptLr", 0.01),
            clip_gradient=h.get("clipGradient", 1e12),
        )
    if a == "ftrl_logistic_regression":
        # River's FTRL is an optimizer of LogisticRegression; its intercept is SGD at intercept_lr.
        return linear_model.LogisticRegression(optimizer=optim.FTRLProximal(h["alpha"], h["beta"], h["l1"], h["l2"]))
    if a == "pa_classifier":
        return linear_model.PAClassifier(C=h["C"], mode=h["mode"])
    if a == "pa_regressor":
        return linear_model.PARegressor(C=h["C"], mode=h["mode"], eps=h["eps"])
    if a == "gaussian_nb":
        return naive_bayes.GaussianNB()
    raise ValueError(a)


def model_for(spec, meta, hashing):
    est = estimator(spec)
    categorical = meta["onehot"] or meta["hashed"]
    if spec["encode"] == "raw":
        return compose.Select(*meta["numeric"]) | est if categorical else est
    if not categorical:
        return preprocessing.StandardScaler() | est
    parts = [compose.Select(*meta["numeric"]) | preprocessing.StandardScaler()]
    if meta["onehot"]:
        parts.append(compose.Select(*meta["onehot"]) | preprocessing.OneHotEncoder(drop_zeros=True))
    if meta["hashed"]:
        parts.append(
            compose.Select(*meta["hashed"]) | preprocessing.FeatureHasher(n_features=hashing["buckets"], seed=hashing["riverSeed"])
        )
    return compose.TransformerUnion(*parts) | est


def one_pass(model, rows, task):
    correct = 0
    loss = 0.0
    abs_err = 0.0
    start = time.perf_counter()
    if task == "binary":
        for x, y in rows:
            proba = model.predict_proba_one(x)
            p = proba.get(True, 0.0) if proba else 0.5
            if (p >= 0.5) == y:
                correct += 1
            q = min(1 - 1e-15, max(1e-15, p))
            loss -= math.log(q) if y else math.log(1 - q)
            model.learn_one(x, y)
    elif task == "multiclass":
        for x, y in rows:
            proba = model.predict_proba_one(x)
            if proba and max(proba, key=proba.get) == y:
                correct += 1
            loss -= math.log(min(1 - 1e-15, max(1e-15, proba.get(y, 0.0))))
            model.learn_one(x, y)
    else:
        for x, y in rows:
            abs_err += abs(model.predict_one(x) - y)
            model.learn_one(x, y)
    seconds = time.perf_counter() - start
    n = len(rows)
    if task in ("binary", "multiclass"):
        return {"accuracy": correct / n, "logloss": loss / n}, seconds
    return {"mae": abs_err / n}, seconds


def main():
    data, out = sys.argv[1], sys.argv[2]
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    with open(os.path.join(HERE, "models.json")) as f:
        specs = json.load(f)
    with open(os.path.join(data, "meta.json")) as f:
        metas = json.load(f)
    hashing = specs["hashing"]
    # River derives its MurmurHash3 seed from `seed`; ours takes the derived value directly.
    hasher_seed = preprocessing.FeatureHasher(n_features=hashing["buckets"], seed=hashing["riverSeed"])._seed
    results = []
    for meta in metas:
        if only and meta["name"] not in only.split(","):
            continue
        rows = []
        with open(os.path.join(data, meta["name"] + ".jsonl")) as f:
            for line in f:
                e = json.loads(line)
                x = {**e["features"], **e["categorical"]}
                rows.append((x, bool(e["y"]) if meta["task"] == "binary" else e["y"]))
        if meta["task"] not in specs:
            continue
        for spec in specs[meta["task"]]:
            model = model_for(spec, meta, hashing)
            metrics, seconds = one_pass(model.clone(), rows, meta["task"])
            passes = 1
            while seconds < MIN_SECONDS:
                _, s = one_pass(model.clone(), rows, meta["task"])
                seconds += s
                passes += 1
            results.append({
                "dataset": meta["name"], "model": spec["name"], "n": len(rows), **metrics,
                "seconds": seconds, "passes": passes, "throughput": passes * len(rows) / seconds,
            })
            print(f"  river {meta['name']:<10} {spec['name']:<12} {results[-1]['throughput']:>10.0f} ex/s", file=sys.stderr, flush=True)
    with open(out, "w") as f:
        json.dump({"river": __import__("river").__version__, "hasherSeed": hasher_seed, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
