"""How the exact limit of a b depends on the sequence length T, beside the paper's line.

For the Gaussian token (d = 5, sigma = 1) the paper draws 1/(5 sigma^2); the exact limit at
finite T is (T-2) / (sigma^2 (5(T-2) + (d-1) H_{T-2})). This prints both, their relative gap,
and the first-order asymptotic gap (d-1)(ln T + gamma) / (kT), k = E[x^6]/(E[x^4] sigma^2)
(k = 5 for the Gaussian, 1 for full-one); then the same for full-one
(masked), whose T -> infinity limit is 1. All values come from the symbolic closed form.

    python benchmarks/ab_versus_T.py
"""

from __future__ import annotations

import math

import sympy as sp

from mesacheck.numeric.bridge import evaluate
from mesacheck.symbolic.moments import full_one, gaussian
from mesacheck.symbolic.population_loss import T
from mesacheck.symbolic.stationary import ab_limit

LENGTHS = [3, 10, 30, 100, 300, 1_000, 10_000, 100_000]


def main() -> None:
    d = 5
    cases = [("Gaussian, sigma = 1", gaussian(d), {"sigma": 1}), ("full-one", full_one(d), {})]
    for name, law, values in cases:
        closed = ab_limit(law)
        line = sp.limit(closed, T, sp.oo).subs({sp.Symbol("sigma", positive=True): 1})
        print(f"{name}, d = {d}: lim ab = {closed};  T -> infinity: {line}")
        print(f"{'T':>8} {'exact lim ab':>14} {'relative gap':>13} {'(d-1)(ln T + gamma)/(kT)':>26}")
        for length in LENGTHS:
            value = evaluate(closed, values | {"T": length})
            gap = (float(line) - value) / float(line)
            scale = 5 if name.startswith("Gaussian") else 1  # k: 15/3 for the Gaussian, 1 for full-one
            asymptotic = (d - 1) * (math.log(length) + 0.5772156649) / (scale * length)
            print(f"{length:>8} {value:>14.8f} {gap:>13.3e} {asymptotic:>26.3e}")
        print()


if __name__ == "__main__":
    main()
