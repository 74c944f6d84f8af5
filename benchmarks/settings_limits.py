"""Issue 13's acceptance figures: the exact lim a b in settings beyond the paper's process
against the integrated flows, the engine against quadrature, and the cost of `mesacheck limit`.

For Gaussian (sigma = 1), sparse (c = 1) and full-one (masked) tokens at d = 5, T = 100, in
each setting (r = 0.9, 0.95, 0.99; the last-position loss; circular complex noise s = 0.5 and
1; W on the N-th roots of unity, N = 2 and 3; a random modulus: lambda uniform in the unit disk,
and |lambda| in {0.9, 1}) it prints:
- p* = beta / alpha, exact (mesacheck.symbolic.symmetric_line: an exact finite sum over positions);
- the diagonal model's flow (mesacheck.numeric.diagonal_flow) and, where the full model keeps the
  diagonal, the full flow of every entry (mesacheck.numeric.full_flow), with relative errors;
- the median wall time of `mesacheck limit` in that setting (3 runs, warm derivation cache).
Then the engine against quadrature (loss and both gradients) on random complex atom laws, with
and without noise (Gauss-Hermite over the noise), and the median time of the exact full
gradient with noise at d = 5, T = 100 (target 5 ms).

Run: python benchmarks/settings_limits.py [--no-cli]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from mesacheck.numeric.bridge import full_model_arrays  # noqa: E402
from mesacheck.numeric.diagonal_flow import integrate_diagonal_flow, off_diagonal_gradient  # noqa: E402
from mesacheck.numeric.full_flow import FullModel, full_model, integrate_full_flow  # noqa: E402
from mesacheck.numeric.quadrature import quadrature_loss_and_gradient  # noqa: E402
from mesacheck.numeric.simulate import diagonal_initialization  # noqa: E402
from mesacheck.symbolic.moments import Atoms, full_one, gaussian, sparse  # noqa: E402
from mesacheck.symbolic.setting import (  # noqa: E402
    Noise,
    Setting,
    circle,
    modulus_atoms,
    random_modulus,
    roots_of_unity,
)
from mesacheck.symbolic.symmetric_line import symmetric_line  # noqa: E402

SETTINGS = {
    "r = 0.9": ({"phases": circle("0.9")}, ["--r", "0.9"]),
    "r = 0.95": ({"phases": circle("0.95")}, ["--r", "0.95"]),
    "r = 0.99": ({"phases": circle("0.99")}, ["--r", "0.99"]),
    "last position": ({"positions": "last"}, ["--loss-positions", "last"]),
    "noise s = 0.5": ({"noise": Noise("complex", "1/2")}, ["--noise", "0.5"]),
    "noise s = 1": ({"noise": Noise("complex", 1)}, ["--noise", "1"]),
    "roots N = 2": ({"phases": roots_of_unity(2)}, ["--phases", "roots:2"]),
    "roots N = 3": ({"phases": roots_of_unity(3)}, ["--phases", "roots:3"]),
    "modulus disk": ({"phases": random_modulus("1/(k+1)")}, ["--modulus", '{"moments": "1/(k+1)"}']),
    "modulus 0.9|1": (
        {"phases": modulus_atoms({"0.9": "1/2", "1": "1/2"})},
        ["--modulus", '{"atoms": {"0.9": 0.5, "1": 0.5}}'],
    ),
}
LAWS = {
    "gaussian": (gaussian(5, 1), False, ["--x1", "gaussian"]),
    "sparse": (sparse(5, 1), False, ["--x1", "sparse"]),
    "full-one masked": (full_one(5), True, ["--x1", "full-one", "--mask"]),
}
T = 100


def cli_seconds(arguments: list[str], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(["mesacheck", "limit", *arguments], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def limits(with_cli: bool) -> float:
    worst = 0.0
    print(
        f"{'x_1':<16} {'setting':<14} {'exact p*':>20} {'diag flow err':>13} "
        f"{'full flow err':>13} {'limit s':>8}"
    )
    for law_name, (law, mask, law_args) in LAWS.items():
        for name, (fields, args) in SETTINGS.items():
            setting = Setting(law, **fields)
            p_star = float(symmetric_line(setting, T).ab_star)
            model = full_model(setting, T)
            diagonal = integrate_diagonal_flow(model, 0.1, 0.1)
            diagonal_error = float(np.max(np.abs(diagonal.ab - p_star)) / p_star)
            full_text = "leaves diag"
            errors = [diagonal_error]
            if off_diagonal_gradient(model, 0.1, 0.1, mask=mask)[1]:
                full = integrate_full_flow(model, *diagonal_initialization(5, 0.1, 0.1), mask=mask)
                full_error = abs(full.ab[-1] - p_star) / p_star
                errors.append(full_error)
                full_text = f"{full_error:.1e}"
            worst = max(worst, *errors)
            seconds = f"{cli_seconds([*law_args, *args]):.2f}" if with_cli else "-"
            print(
                f"{law_name:<16} {name:<14} {p_star:>20.15f} {diagonal_error:>13.1e} "
                f"{full_text:>13} {seconds:>8}"
            )
    return worst


def engine_against_quadrature(draws: int = 14, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    worst = 0.0
    phase_laws = [
        circle("1"),
        circle("0.9"),
        circle("1/2"),
        roots_of_unity(2),
        roots_of_unity(3),
        modulus_atoms({"1/2": "1/2", "1": "1/2"}),
        random_modulus("1/(k+1)"),  # its quadrature grid has ~10 radii x 4T phases per coordinate
    ]
    for draw in range(draws):
        phases = phase_laws[draw % len(phase_laws)]
        d = int(rng.integers(1, 4 if phases.fixed_modulus else 3))
        points = (rng.integers(-2, 3, size=(3, d)) + 1j * rng.integers(-2, 3, size=(3, d))).tolist()
        law = Atoms([[complex(v) for v in p] for p in points], ["1/4", "1/4", "1/2"])
        setting = Setting(law, phases, positions=("all", "last")[draw % 2])
        length = int(rng.integers(3, 7))
        model = FullModel(full_model_arrays(setting, length, {}))
        W_KQ = rng.normal(size=(2 * d, 2 * d)) + 1j * rng.normal(size=(2 * d, 2 * d))
        W_PV = rng.normal(size=(d, 2 * d)) + 1j * rng.normal(size=(d, 2 * d))
        loss = model.loss(W_KQ, W_PV)
        g_KQ, g_PV = model.gradient(W_KQ, W_PV)
        q_loss, q_KQ, q_PV = quadrature_loss_and_gradient(setting, length, W_KQ, W_PV)
        errors = [
            abs(loss - q_loss) / abs(q_loss),
            np.abs(g_KQ - q_KQ).max() / np.abs(q_KQ).max(),
            np.abs(g_PV - q_PV).max() / np.abs(q_PV).max(),
        ]
        worst = max(worst, *errors)
    return worst


def engine_against_noise_quadrature(draws: int = 8, seed: int = 1) -> float:
    """As above with noise, in sizes the Gauss-Hermite rule over every noise variable affords."""
    rng = np.random.default_rng(seed)
    worst = 0.0
    cases = [  # (d, T, phases, noise kind)
        (1, 3, circle("1"), "complex"),
        (1, 4, circle("1"), "complex"),
        (1, 4, roots_of_unity(3), "complex"),
        (2, 3, roots_of_unity(2), "real"),
        (2, 4, roots_of_unity(2), "real"),
        (3, 3, roots_of_unity(2), "real"),
    ]
    for draw in range(draws):
        d, length, phases, kind = cases[draw % len(cases)]
        points = (rng.integers(-2, 3, size=(2, d)) + 1j * rng.integers(-2, 3, size=(2, d))).tolist()
        law = Atoms([[complex(v) for v in p] for p in points], ["1/3", "2/3"])
        scale = ("1/4", "1/2", "1", "3/2")[draw % 4]
        setting = Setting(law, phases, Noise(kind, scale), positions=("all", "last")[draw % 2])
        model = FullModel(full_model_arrays(setting, length, {}))
        W_KQ = rng.normal(size=(2 * d, 2 * d)) + 1j * rng.normal(size=(2 * d, 2 * d))
        W_PV = rng.normal(size=(d, 2 * d)) + 1j * rng.normal(size=(d, 2 * d))
        g_KQ, g_PV = model.gradient(W_KQ, W_PV)
        q_loss, q_KQ, q_PV = quadrature_loss_and_gradient(setting, length, W_KQ, W_PV)
        worst = max(
            worst,
            abs(model.loss(W_KQ, W_PV) - q_loss) / abs(q_loss),
            np.abs(g_KQ - q_KQ).max() / np.abs(q_KQ).max(),
            np.abs(g_PV - q_PV).max() / np.abs(q_PV).max(),
        )
    return worst


def noisy_gradient_milliseconds(repeats: int = 200) -> tuple[float, float]:
    """Median time of the exact full gradient (every entry) with complex noise s = 1/2 at
    d = 5, T = 100, and the same without noise: the noise only changes K and J's values."""
    medians = []
    for setting in (Setting(gaussian(5, 1), noise=Noise("complex", "1/2")), Setting(gaussian(5, 1))):
        model = full_model(setting, T)
        rng = np.random.default_rng(0)
        W_KQ = rng.normal(size=(10, 10)) + 1j * rng.normal(size=(10, 10))
        W_PV = rng.normal(size=(5, 10)) + 1j * rng.normal(size=(5, 10))
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            model.gradient(W_KQ, W_PV)
            times.append(time.perf_counter() - start)
        medians.append(1e3 * statistics.median(times))
    return medians[0], medians[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-cli", action="store_true", help="skip timing the command line")
    args = parser.parse_args()
    worst = limits(not args.no_cli)
    print(f"worst relative error, exact p* against the flows: {worst:.1e} (target 1e-10)")
    print(
        "engine against torus quadrature, worst relative error over 14 draws: "
        f"{engine_against_quadrature():.1e}"
    )
    print(
        "engine against phases x Gauss-Hermite quadrature with noise, worst relative error over 8 draws: "
        f"{engine_against_noise_quadrature():.1e} (target 1e-12)"
    )
    noisy, clean = noisy_gradient_milliseconds()
    print(
        f"exact full gradient at d = 5, T = 100: {noisy:.2f} ms with noise, {clean:.2f} ms without "
        "(median of 200; target 5 ms)"
    )


if __name__ == "__main__":
    main()
