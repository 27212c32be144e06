"""Reference probabilities of the multi-class learners, with River.

Reads {"stream": [{"x": {name: number}, "y": class}, ...], "models": {name:
spec}} from stdin; for each model runs progressive validation (predict_proba_one,
then learn_one) and prints per model the predicted probabilities of every
example before it is learned, as [[class, probability], ...] in River's order
(the classes as first seen). Used by test/integration/multiclass-reference.test.ts.

Specs (River's parameters, our names):
  {"kind": "softmax", "optimizer": {"kind": "sgd"|"adagrad"|"adam", ...}, "l2": 0,
   "bias": false}  linear_model.SoftmaxRegression; bias appends a constant
                   feature 1 (our intercept, when its step is the SGD step)
  {"kind": "ovr", "base": "logistic_regression"|"pa_classifier", "options": {...}}
                   multiclass.OneVsRestClassifier over River's binary model
  {"kind": "gaussian_nb"}  naive_bayes.GaussianNB
and "scaled": true puts a preprocessing.StandardScaler before the model.
"""
import json
import sys

from river import linear_model, multiclass, naive_bayes, optim, preprocessing


def optimizer(o):
    if o["kind"] == "sgd":
        return optim.SGD(o["lr"])
    if o["kind"] == "adagrad":
        return optim.AdaGrad(o["lr"], o["eps"])
    return optim.Adam(o["lr"], o["beta1"], o["beta2"], o["eps"])


def model_for(spec):
    kind = spec["kind"]
    if kind == "softmax":
        model = linear_model.SoftmaxRegression(optimizer=optimizer(spec["optimizer"]), l2=spec.get("l2", 0))
    elif kind == "ovr":
        o = spec.get("options", {})
        if spec["base"] == "logistic_regression":
            base = linear_model.LogisticRegression(
                optimizer=optimizer(o.get("optimizer", {"kind": "sgd", "lr": 0.01})),
                l2=o.get("l2", 0.0),
                intercept_lr=o.get("interceptLr", 0.01),
            )
        else:
            base = linear_model.PAClassifier(C=o.get("C", 1.0), mode=o.get("mode", 1))
        model = multiclass.OneVsRestClassifier(base)
    elif kind == "gaussian_nb":
        model = naive_bayes.GaussianNB()
    else:
        raise ValueError(kind)
    return preprocessing.StandardScaler() | model if spec.get("scaled") else model


def run(spec, stream):
    model = model_for(spec)
    bias = spec.get("bias", False)
    out = []
    for row in stream:
        x = dict(row["x"])
        if bias:
            x["__bias"] = 1.0
        out.append([[c, p] for c, p in model.predict_proba_one(x).items()])
        model.learn_one(x, row["y"])
    return out


data = json.load(sys.stdin)
json.dump({name: run(spec, data["stream"]) for name, spec in data["models"].items()}, sys.stdout)
