"""Issue 22's acceptance figures for items 1, 2 and 6: `mesacheck conditions` and `mesacheck
recovery` answer in every setting that `mesacheck limit` takes, with the exact condition.

For each setting (every law of W the command line takes: the unit circle, a contraction, the
N-th roots of unity for N = 1, 2, 3, a random modulus by its moments and by atoms; circular
complex and real noise, Gaussian and by moments; the last-position loss; rho_t = t) and a
Gaussian, a sparse and a full-one token at d = 3, it runs both commands through the command line
(`--json`, a fresh process-wide cache) and prints: the exit code, the emergence verdict with its
number of non-zero coefficients and the blocks it drives (with their moments), the
equal-diagonal verdict, the recovery verdicts at T and as T grows with the limit's regime and
the relative limiting error, or the command's one-line refusal, and the wall time.

Run: python benchmarks/settings_theorems.py [--T 6]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

from click.testing import CliRunner  # noqa: E402

from mesacheck.proofs_check.cli import main  # noqa: E402

SETTINGS = {
    "unit circle, last position": ["--loss-positions", "last"],
    "contraction r = 0.8": ["--r", "0.8"],
    "roots:1 (W = I)": ["--phases", "roots:1"],
    "roots:2 (W = diag(+-1))": ["--phases", "roots:2"],
    "roots:3": ["--phases", "roots:3"],
    "random modulus, uniform in the disk": ["--modulus", '{"moments": "1/(k+1)"}'],
    "random modulus, atoms {0.5, 1}": ["--modulus", '{"atoms": {"0.5": 0.5, "1": 0.5}}'],
    "complex noise 0.5": ["--noise", "0.5"],
    "complex noise 0.5, r = 0.8": ["--noise", "0.5", "--r", "0.8"],
    "complex noise by moments, roots:3": [
        "--noise-moments",
        '{"2": 1, "4": 3, "6": 12}',
        "--phases",
        "roots:3",
    ],
    "real noise 0.5": ["--noise", "0.5", "--noise-kind", "real"],
    "real noise 0.5, roots:2": ["--noise", "0.5", "--noise-kind", "real", "--phases", "roots:2"],
}
TOKENS = {
    "gaussian": ["--x1", "gaussian", "--sigma", "1"],
    "sparse": ["--x1", "sparse", "--c", "1"],
    "full-one": ["--x1", "full-one"],
}


def run(command: str, arguments: list[str]) -> tuple[int, dict | str, float]:
    start = time.perf_counter()
    result = CliRunner().invoke(main, [command, *arguments, "--json"])
    seconds = time.perf_counter() - start
    try:
        return result.exit_code, json.loads(result.output), seconds
    except json.JSONDecodeError:
        return result.exit_code, result.output.strip().splitlines()[-1], seconds


def main_() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--T", type=int, default=6)
    parser.add_argument("--d", type=int, default=3)
    T, d = parser.parse_args().T, parser.parse_args().d
    answered = total = 0
    for name, options in SETTINGS.items():
        for token, law in TOKENS.items():
            arguments = [*law, "--d", str(d), "--T", str(T), *options]
            print(f"== {name}; {token}, d = {d}, T = {T}")
            code, out, seconds = run("conditions", arguments)
            total += 1
            if code == 0:
                answered += 1
                emergence = out["emergence_condition"]
                driven = [
                    f"{b['block']} by {', '.join(b['driving_moments'])}"
                    for b in out["blocks"]
                    if b["driven_entries"]
                ]
                equal = out["equal_diagonal_condition"]
                print(
                    f"  conditions ({seconds:.1f} s): emergence {'holds' if emergence['holds'] else 'FAILS'} "
                    f"({len(emergence['offending'])} non-zero coefficients); equal diagonal "
                    f"{'-' if equal is None else ('holds' if equal['holds'] else 'FAILS')}"
                )
                for line in driven:
                    print(f"    driven: {line}")
            else:
                print(f"  conditions ({seconds:.1f} s): exit {code}: {out}")
            code, out, seconds = run("recovery", arguments)
            total += 1
            if code == 0:
                answered += 1
                print(
                    f"  recovery ({seconds:.1f} s): p(T) = {out['p_T']:.6g}; "
                    f"at T {out['recovery_holds_at_T']}, "
                    f"as T grows {out['recovery_holds_as_T_grows']}; {out['limit_regime']}; relative limit "
                    f"{out['relative_error_limit']} (floor {out['relative_noise_floor']})"
                )
            else:
                print(f"  recovery ({seconds:.1f} s): exit {code}: {out}")
    print(f"answered {answered} of {total} requests (the others refused in one line with the reason)")


if __name__ == "__main__":
    main_()
