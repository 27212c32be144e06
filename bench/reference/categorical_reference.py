"""Reference categorical drift figures for feedbackloop, with scipy.

Reads {"cases": {name: {"reference": [counts...], "current": [counts...]}},
"sf": [[x, dof], ...]} from stdin (the counts of the bins compared, the
`other` bucket last when it is compared). Prints per case the chi-squared
statistic and p-value of scipy.stats.chisquare(f_obs=current,
f_exp=(reference + 0.5) / (sum(reference) + 0.5 K) * sum(current)), its
degrees of freedom, and the Jensen-Shannon distance
scipy.spatial.distance.jensenshannon(reference, current, base=2); and for each
[x, dof] of "sf": scipy.stats.chi2.sf(x, dof) and scipy.stats.chi2.isf(sf, dof)
at that p-value. Used by test/integration/categorical-reference.test.ts.
"""
import json
import sys

import numpy as np
from scipy import stats
from scipy.spatial import distance

def case(reference, current):
    ref = np.array(reference, dtype=float)
    cur = np.array(current, dtype=float)
    chi = stats.chi2_contingency(np.array([ref, cur]), correction=False)
    return {
        "chi2": float(chi.statistic),
        "p": float(chi.pvalue),
        "dof": int(chi.dof),
        "js": float(distance.jensenshannon(ref, cur, base=2)),
    }


data = json.load(sys.stdin)
out = {"cases": {name: case(c["reference"], c["current"]) for name, c in data["cases"].items()}}
out["sf"] = [float(stats.chi2.sf(x, dof)) for x, dof in data.get("sf", [])]
out["isf"] = [float(stats.chi2.isf(alpha, dof)) for alpha, dof in data.get("isf", [])]
json.dump(out, sys.stdout)
