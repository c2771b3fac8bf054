"""rliable.library's interval estimates and performance profile for the scores given on stdin, as JSON on stdout.

Run by tests/analysis/test_rliable_crosscheck.py in the reference environment `make test` builds (.venv-rliable:
rliable 1.2 with the pandas < 3 and arch < 8 it works with), since rliable.library does not run beside pandas 3.
It imports nothing of gan_study: it is rliable, and only rliable, on the test's arrays.

stdin: {"scores": runs × tasks, "taus": [...], "reps": int, "seed": int}
stdout: {"iqm": float, "iqm_interval": [lower, upper], "profile": [...], "profile_interval": [[lower...], [upper...]]}
"""
import json
import sys

import numpy as np
from rliable import library, metrics


def main() -> None:
    request = json.load(sys.stdin)
    scores, taus = np.asarray(request["scores"]), np.asarray(request["taus"])
    points, intervals = library.get_interval_estimates(
        {"a": scores}, lambda s: np.array([metrics.aggregate_iqm(s)]), reps=request["reps"],
        random_state=np.random.RandomState(request["seed"]))
    profile, profile_intervals = library.create_performance_profile({"a": scores}, taus, reps=request["reps"])
    json.dump({"iqm": float(points["a"][0]), "iqm_interval": intervals["a"][:, 0].tolist(),
               "profile": profile["a"].tolist(), "profile_interval": profile_intervals["a"].tolist()}, sys.stdout)


if __name__ == "__main__":
    main()
