"""Reference drift statistics for feedbackloop, with numpy and scipy.

Reads {"cases": {name: {"reference": [...], "current": [...], "bins": 10}}}
from stdin; prints per case: the decile edges (numpy.quantile, linear), the
bin counts (bin i holds edges[i-1] <= x < edges[i]), PSI (shares floored at
1e-4), the KS statistic (scipy.stats.ks_2samp) and the Kolmogorov-limit
p-value (scipy.special.kolmogorov). Used by test/integration/drift-reference.test.ts.
"""
import json
import sys

import numpy as np
from scipy import special, stats


def case(reference, current, bins):
    ref = np.array(reference, dtype=float)
    cur = np.array(current, dtype=float)
    edges = np.unique(np.quantile(ref, [i / bins for i in range(1, bins)]))
    rc = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1)
    cc = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1)
    r = np.maximum(rc / rc.sum(), 1e-4)
    c = np.maximum(cc / cc.sum(), 1e-4)
    d = stats.ks_2samp(ref, cur).statistic
    n, m = len(ref), len(cur)
    return {
        "edges": edges.tolist(),
        "reference_counts": rc.tolist(),
        "current_counts": cc.tolist(),
        "psi": float(np.sum((c - r) * np.log(c / r))),
        "ks": float(d),
        "ks_p": float(special.kolmogorov(d * np.sqrt(n * m / (n + m)))),
    }


data = json.load(sys.stdin)
json.dump({name: case(c["reference"], c["current"], c.get("bins", 10)) for name, c in data["cases"].items()}, sys.stdout)
