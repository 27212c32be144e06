"""Reference alarms of the concept-drift detectors, with River.

Reads {"streams": {name: {"detector": "ddm" | "adwin" | "page_hinkley",
"options": {...River's parameter names...}, "values": [...]}}} from stdin;
prints per stream the indices (0-based) at which River's detector
(drift.binary.DDM, drift.ADWIN, drift.PageHinkley) reports drift_detected
after update, and for DDM also where it reports warning_detected. Used by
test/integration/detector-reference.test.ts.
"""
import json
import sys

from river import drift

MAKERS = {
    "ddm": drift.binary.DDM,
    "adwin": drift.ADWIN,
    "page_hinkley": drift.PageHinkley,
}


def run(case):
    detector = MAKERS[case["detector"]](**case.get("options", {}))
    alarms, warnings = [], []
    for i, x in enumerate(case["values"]):
        detector.update(x)
        if detector.drift_detected:
            alarms.append(i)
        if getattr(detector, "warning_detected", False):
            warnings.append(i)
    return {"alarms": alarms, "warnings": warnings}


data = json.load(sys.stdin)
json.dump({name: run(case) for name, case in data["streams"].items()}, sys.stdout)
