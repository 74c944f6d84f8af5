"""Certified results (issue 24) at the paper's setting, d = 5, T = 100: Krawczyk's test on the
full flow's limits of the Gaussian and the full-one (unmasked) token, the refusal of a point
moved 1e-6 off each, and the proven step-size threshold eta* of discrete gradient descent for
the Gaussian and the sparse token at each published scale against the reference's steps. Prints each figure
and its time.

    python benchmarks/certify_limits.py
"""

from __future__ import annotations

import sys
import time
from fractions import Fraction

from mesacheck.numeric.bridge import exact_value
from mesacheck.numeric.certify import (
    balanced_mesa_optimizer,
    certify_stationary,
    conserved_quantity,
    exact_full_model,
    stability_threshold,
)
from mesacheck.numeric.full_flow import full_model, integrate_full_flow
from mesacheck.numeric.simulate import diagonal_initialization
from mesacheck.symbolic.moments import full_one, gaussian, sparse
from mesacheck.symbolic.stationary import ab_limit

D, T = 5, 100


def main() -> int:
    failures = 0
    for name, law in (("Gaussian sigma = 1", gaussian(D, 1)), ("full-one, unmasked", full_one(D))):
        start = diagonal_initialization(D, 0.1, 0.1)
        clock = time.perf_counter()
        Q, P = (W.real for W in integrate_full_flow(full_model(law, T), *start).limit)
        flow_seconds = time.perf_counter() - clock
        clock = time.perf_counter()
        model = exact_full_model(law, T)
        build_seconds = time.perf_counter() - clock
        clock = time.perf_counter()
        certificate = certify_stationary(model, Q, P, conserved=conserved_quantity(*start))
        seconds = time.perf_counter() - clock
        moved = P.copy()
        moved[0, 0] += 1e-6
        refused = certify_stationary(model, Q, moved, conserved=conserved_quantity(*start))
        print(f"{name}: flow {flow_seconds:.1f} s, exact K and J {build_seconds:.1f} s, test {seconds:.1f} s")
        print(f"  {certificate.verdict}")
        print(
            f"  box +/- {certificate.radius:g}, contraction {certificate.contraction:.2e}; inertia real "
            f"{certificate.real_inertia} (Gershgorin >= {certificate.real_lower_bound:.4g}), imaginary "
            f"{certificate.imaginary_inertia} (positive, exact zero, undecided)"
        )
        print(f"  a_j b_j in [{certificate.products[0][0]!r}, {certificate.products[0][1]!r}]")
        print(f"  moved 1e-6: {refused.verdict}")
        failures += not certificate.strict_minimum_real or refused.unique_zero is not False
    # the reference's published settings (spec/model.md): scale and step size
    published_runs = [("Gaussian", s, eta) for s, eta in ((Fraction(1, 2), 1e-3), (1, 1e-4), (2, 2e-6))]
    published_runs += [("sparse", s, eta) for s, eta in ((Fraction(1, 2), 3e-2), (1, 1e-3), (2, 1e-4))]
    for family, scale, published in published_runs:
        law = gaussian(D, scale) if family == "Gaussian" else sparse(D, scale)
        symbolic_law = gaussian(D) if family == "Gaussian" else sparse(D)
        name = f"{family} {'sigma' if family == 'Gaussian' else 'c'} = {scale}"
        clock = time.perf_counter()
        p_star = exact_value(ab_limit(symbolic_law), {"T": T, "sigma": scale, "c": scale})
        point = balanced_mesa_optimizer(D, Fraction(int(p_star.p), int(p_star.q)))
        threshold = stability_threshold(exact_full_model(law, T), point)
        lo, hi = threshold.eta_star
        print(
            f"{name}: eta* in [{lo!r}, {hi!r}] ({time.perf_counter() - clock:.1f} s); published eta "
            f"{published:g}: " + (f"stable, margin {lo / published:.3g}x" if published < lo else "NOT stable")
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
