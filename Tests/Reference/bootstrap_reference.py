#!/usr/bin/env python3
"""An independent champion/challenger computation, in numpy, for ChampionChallengerTests.

Reads {"cases": [...]} on stdin; each case has per-query `champion` and `challenger` values of the primary
metric (null where undefined), the `guardrails` ({"metric", "max_regression", "champion", "challenger"}),
`confidence`, `resamples`, `seed`, `min_improvement` and `min_queries`. Prints, per case:

- `queries`, `mean`, `lower`, `upper`: the paired bootstrap over queries with Tandem's documented rule — the
  resample indices are SplitMix64 draws (state += 0x9E3779B97F4A7C15, then the two xor-shift-multiply rounds)
  taken modulo the number of queries, each resample mean is the left-to-right sum of its differences divided
  by the number of queries, and the interval is the sorted means at floor(a·R) and ceil((1 − a)·R) − 1 with
  a = (1 − confidence) / 2;
- `decision`: inconclusive below min_queries, pass when lower ≥ min_improvement, fail when upper <
  min_improvement, else inconclusive; fail when any guardrail's mean difference is below −max_regression;
- `independent_lower`, `independent_upper`, `sigma`: a bootstrap with numpy's own generator and
  `numpy.percentile`, and the standard error of the mean difference, to check the interval statistically
  and not only against the same stream.
"""
import json
import math
import sys

import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)


def splitmix64(seed, count):
    """The first `count` outputs of SplitMix64 seeded with `seed`, as uint64 (arithmetic mod 2^64)."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + np.arange(1, count + 1, dtype=np.uint64) * GOLDEN
        z = (z ^ (z >> np.uint64(30))) * M1
        z = (z ^ (z >> np.uint64(27))) * M2
        return z ^ (z >> np.uint64(31))


def paired(champion, challenger):
    pairs = [(a, b) for a, b in zip(champion, challenger) if a is not None and b is not None]
    a = np.array([p[0] for p in pairs], dtype=np.float64)
    b = np.array([p[1] for p in pairs], dtype=np.float64)
    return a, b


def bootstrap(champion, challenger, confidence, resamples, seed):
    a, b = paired(champion, challenger)
    n = len(a)
    if n == 0:
        return 0, 0.0, 0.0, 0.0, np.zeros(0)
    d = b - a
    indices = (splitmix64(seed, resamples * n) % np.uint64(n)).astype(np.int64).reshape(resamples, n)
    # cumsum adds left to right, as the definition says (numpy's sum would add pairwise).
    means = np.cumsum(d[indices], axis=1)[:, -1] / n
    means.sort()
    alpha = (1 - confidence) / 2
    lo = means[max(0, min(resamples - 1, math.floor(alpha * resamples)))]
    hi = means[max(0, min(resamples - 1, math.ceil((1 - alpha) * resamples) - 1))]
    return n, float(d.sum() / n), float(lo), float(hi), d


def main():
    out = []
    for case in json.load(sys.stdin)["cases"]:
        n, mean, lo, hi, d = bootstrap(
            case["champion"], case["challenger"], case["confidence"], case["resamples"], case["seed"])
        if n < case["min_queries"]:
            decision = "inconclusive"
        elif lo >= case["min_improvement"]:
            decision = "pass"
        elif hi < case["min_improvement"]:
            decision = "fail"
        else:
            decision = "inconclusive"
        guardrails = []
        for g in case["guardrails"]:
            ga, gb = paired(g["champion"], g["challenger"])
            gmean = float((gb - ga).sum() / len(ga)) if len(ga) else 0.0
            ok = gmean >= -g["max_regression"]
            guardrails.append({"metric": g["metric"], "mean": gmean, "ok": ok})
            if not ok:
                decision = "fail"
        result = {"queries": n, "mean": mean, "lower": lo, "upper": hi, "decision": decision, "guardrails": guardrails}
        if n > 1:
            rng = np.random.default_rng(case["seed"] ^ 0x5EED)
            means = d[rng.integers(0, n, size=(case["resamples"], n))].mean(axis=1)
            alpha = (1 - case["confidence"]) / 2
            ilo, ihi = np.percentile(means, [100 * alpha, 100 * (1 - alpha)])
            result.update(
                independent_lower=float(ilo), independent_upper=float(ihi), sigma=float(d.std(ddof=0) / math.sqrt(n)))
        out.append(result)
    json.dump({"results": out}, sys.stdout)


if __name__ == "__main__":
    main()
