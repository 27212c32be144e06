"""Reference probabilities of the multi-label learner (binary relevance), with River.

Reads {"stream": [{"x": {name: number}, "y": [label, ...]}, ...], "models":
{name: spec}} from stdin; for each model runs progressive validation
(predict_proba_one, then learn_one) and prints per model the probability that
each label applies, for every example before it is learned, as [[label,
probability], ...] in River's order (the labels as first seen, or as given).
Used by test/integration/multilabel-reference.test.ts.

River's multioutput.PerOutputClassifier learns each output key of y with its own
deep copy of the classifier, made when the key is first seen. Our true label
set is given to it as y = {label: label in set} over the labels known so far
(spec "labels": the fixed labels, known from the start; else those seen in a
true set so far, this example's included).

Specs: {"base": "logistic_regression", "options": {"optimizer": {...}, "l2": 0},
"labels": [...]?, "scaled": true?}: a preprocessing.StandardScaler before the model.
"""
import json
import sys

from river import linear_model, multioutput, optim, preprocessing


def optimizer(o):
    if o["kind"] == "sgd":
        return optim.SGD(o["lr"])
    if o["kind"] == "adagrad":
        return optim.AdaGrad(o["lr"], o["eps"])
    return optim.Adam(o["lr"], o["beta1"], o["beta2"], o["eps"])


def model_for(spec):
    o = spec.get("options", {})
    base = linear_model.LogisticRegression(
        optimizer=optimizer(o.get("optimizer", {"kind": "sgd", "lr": 0.01})),
        l2=o.get("l2", 0.0),
        intercept_lr=o.get("interceptLr", 0.01),
    )
    model = multioutput.PerOutputClassifier(base)
    return preprocessing.StandardScaler() | model if spec.get("scaled") else model


def run(spec, stream):
    model = model_for(spec)
    known = list(spec.get("labels", []))
    out = []
    for row in stream:
        x = dict(row["x"])
        proba = model.predict_proba_one(x)
        # Before any label is known River has no output: our fixed labels are then untrained (0.5).
        out.append([[label, proba[label][True] if label in proba else 0.5] for label in known])
        for label in row["y"]:
            if label not in known:
                known.append(label)
        model.learn_one(x, {label: label in row["y"] for label in known})
    return out


data = json.load(sys.stdin)
json.dump({name: run(spec, data["stream"]) for name, spec in data["models"].items()}, sys.stdout)
