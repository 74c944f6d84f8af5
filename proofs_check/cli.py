"""The ``mesacheck`` command line: theorem checks, closed-form limits, finite-sample runs."""

from __future__ import annotations

import csv
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np

__all__ = ["main"]


class _Finite(click.ParamType):
    """A float that must be finite, optionally positive."""

    name = "number"

    def __init__(self, positive: bool = False):
        self.positive = positive

    def convert(self, value, param, ctx):
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        if self.positive and number <= 0:
            self.fail(f"must be positive, got {value}", param, ctx)
        return number


FINITE, POSITIVE = _Finite(), _Finite(positive=True)


@dataclass(frozen=True)
class _Setting:
    """A law of x_1 as the user gave it: symbolic (for closed forms) plus values."""

    law: object  # symbolic.moments.Distribution, with parameters as symbols
    values: dict  # symbol name -> exact value, T included
    sampling_law: object  # the same law with numbers in place of its parameters
    description: str


def _setting(x1, d, T, sigma_value, c_value, atoms) -> _Setting:
    import sympy as sp

    from symbolic.moments import Atoms, full_one, gaussian, sparse

    if T < 3:
        raise click.BadParameter(f"the sequence length T must be >= 3, got {T}", param_hint="--T")
    if atoms is not None and x1 != "atoms":
        raise click.BadParameter("--atoms goes with --x1 atoms", param_hint="--atoms")
    if x1 != "gaussian" and sigma_value is not None:
        raise click.BadParameter("--sigma goes with --x1 gaussian", param_hint="--sigma")
    if x1 != "sparse" and c_value is not None:
        raise click.BadParameter("--c goes with --x1 sparse", param_hint="--c")
    if x1 == "atoms":
        if atoms is None:
            raise click.BadParameter("give the atoms as JSON or a JSON file", param_hint="--atoms")
        spec = _read_atoms(atoms)
        try:
            law = Atoms(spec["points"], spec["weights"], name="atoms")
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--atoms") from error
        if d is not None and d != law.d:
            raise click.BadParameter(f"--d {d} but the atoms have length {law.d}", param_hint="--d")
        return _Setting(law, {"T": T}, law, f"atoms ({len(spec['points'])} points, d = {law.d})")
    d = 5 if d is None else d
    if d < 1:
        raise click.BadParameter(f"the dimension d must be >= 1, got {d}", param_hint="--d")
    if x1 == "gaussian":
        value = sp.nsimplify(str(1.0 if sigma_value is None else sigma_value))
        return _Setting(
            gaussian(d), {"sigma": value, "T": T}, gaussian(d, value), f"Gaussian, sigma = {value}"
        )
    if x1 == "sparse":
        value = sp.nsimplify(str(1.0 if c_value is None else c_value))
        return _Setting(sparse(d), {"c": value, "T": T}, sparse(d, value), f"sparse, c = {value}")
    return _Setting(full_one(d), {"T": T}, full_one(d), "full-one")


def _read_atoms(text: str) -> dict:
    source = Path(text)
    try:
        raw = source.read_text() if not text.lstrip().startswith(("{", "[")) and source.exists() else text
        spec = json.loads(raw)
    except (OSError, json.JSONDecodeError) as error:
        raise click.BadParameter(
            f"not JSON and not a readable JSON file: {error}", param_hint="--atoms"
        ) from error
    if isinstance(spec, list):
        spec = {"points": spec, "weights": [f"1/{len(spec)}"] * len(spec)}
    if not isinstance(spec, dict) or set(spec) != {"points", "weights"}:
        raise click.BadParameter('expected {"points": [[...], ...], "weights": [...]}', param_hint="--atoms")
    for key in ("points", "weights"):
        if not isinstance(spec[key], list):
            raise click.BadParameter(f"{key} must be a list", param_hint="--atoms")
    if any(not isinstance(p, list) for p in spec["points"]):
        raise click.BadParameter("each atom must be a list of d numbers", param_hint="--atoms")
    return spec


def _law_options(function):
    options = [
        click.option(
            "--x1",
            type=click.Choice(["gaussian", "sparse", "full-one", "atoms"]),
            default="gaussian",
            show_default=True,
            help="The law of the initial token x_1.",
        ),
        click.option("--sigma", "sigma_value", type=POSITIVE, help="Gaussian scale (default 1)."),
        click.option("--c", "c_value", type=POSITIVE, help="Sparse scale (default 1)."),
        click.option(
            "--atoms", help='Atoms as JSON {"points": [[...]], "weights": ["1/2", ...]} or a JSON file.'
        ),
        click.option("--d", type=int, help="Dimension (default 5; atoms: their length)."),
        click.option("--T", "T", type=int, default=100, show_default=True, help="Sequence length."),
        click.option("--a0", type=FINITE, default=0.1, show_default=True, help="Initial a (W^KQ block)."),
        click.option("--b0", type=FINITE, default=0.1, show_default=True, help="Initial b (W^PV block)."),
        click.option("--mask", is_flag=True, help="Mask the off-diagonal entries of the prediction blocks."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _emit(payload: dict, as_json: bool, lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(payload, indent=2, default=str))
    else:
        click.echo("\n".join(lines))


def _require_diagonal_reduction(setting: _Setting, mask: bool) -> str:
    """Say why the diagonal model is exact here, or stop with the reason it is not."""
    from symbolic.conditions import MAX_D_OFF_DIAGONAL, off_diagonal_gradient, sign_symmetric

    if mask:
        return "masked: the off-diagonal entries of the prediction blocks are held at 0"
    if sign_symmetric(setting.law):
        return (
            "unmasked: the law is invariant under flipping the sign of any coordinate, so the "
            "off-diagonal entries of the prediction blocks keep zero gradient"
        )
    if setting.law.d <= MAX_D_OFF_DIAGONAL:
        offending = off_diagonal_gradient(setting.law)
        if not offending:
            return "unmasked: the off-diagonal gradient vanishes on the diagonal manifold (derived exactly)"
        raise click.UsageError(
            "the off-diagonal entries of the prediction blocks receive a non-zero gradient for this law "
            f"({', '.join(sorted(offending))}): the emergence condition fails and the diagonal closed form "
            "does not describe unmasked training; pass --mask for the reference's masked training (--clip)"
        )
    raise click.UsageError(
        f"this law is not sign-symmetric and d > {MAX_D_OFF_DIAGONAL}, where the toolkit cannot yet decide "
        "whether the off-diagonal entries of the prediction blocks stay zero (for full-one they do not: "
        "the emergence condition fails); pass --mask for the reference's masked training (--clip)"
    )


class _Group(click.Group):
    """Turns the library's errors on bad input into a one-line message and exit status 1."""

    def invoke(self, ctx):
        from numeric.flow import FlowDidNotConverge

        try:
            return super().invoke(ctx)
        except (ValueError, FlowDidNotConverge, NotImplementedError, FloatingPointError) as error:
            raise click.ClickException(str(error)) from error


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mesacheck")
def main():
    """mesacheck: exact checks of mesa-optimization in linear transformers (Zheng et al., 2024)."""


@main.command()
@_law_options
@click.option("--tau-max", type=POSITIVE, default=1e6, show_default=True, help="Time budget of the flow.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def limit(x1, sigma_value, c_value, atoms, d, T, a0, b0, mask, tau_max, as_json):
    """The limit of a b: closed form against the integrated exact flow."""
    import sympy as sp

    from numeric.bridge import evaluate
    from numeric.flow import integrate_flow
    from symbolic.population_loss import T as T_symbol
    from symbolic.stationary import NotExchangeableError, emergence_limit

    start = time.perf_counter()
    setting = _setting(x1, d, T, sigma_value, c_value, atoms)
    if a0 == 0 and b0 == 0:
        raise click.UsageError(
            "(a0, b0) = (0, 0) is a stationary point: with both prediction blocks zero the prediction is "
            "identically 0, every gradient vanishes, and the flow never moves. Start elsewhere."
        )
    regime = _require_diagonal_reduction(setting, mask)
    values = setting.values
    try:
        closed = emergence_limit(setting.law, a0, b0)
    except NotExchangeableError as error:
        closed, reason = None, str(error)
    solution = integrate_flow(setting.law, a0, b0, values=values, tau_max=tau_max)
    d_ = setting.law.d
    a_flow, b_flow = solution.limit[:d_], solution.limit[d_:]
    payload = {
        "x1": setting.description,
        "d": d_,
        "T": T,
        "a0": a0,
        "b0": b0,
        "regime": regime,
        "ab_flow": float(solution.ab[-1]),
        "certificate": {
            "gradient_norm": solution.gradient_norm,
            "relative_newton_step": solution.newton_step,
            "conserved_drift": solution.conserved_drift,
            "tau_end": float(solution.tau[-1]),
            "method": solution.method,
            "rtol": solution.rtol,
        },
    }
    if closed is not None:
        ab_exact = evaluate(closed.ab, values)
        general = closed.ab
        asymptote = sp.limit(general, T_symbol, sp.oo)
        payload.update(
            {
                "ab_closed_form": ab_exact,
                "relative_error": abs(payload["ab_flow"] - ab_exact) / abs(ab_exact) if ab_exact else None,
                "a_limit": evaluate(closed.a, values),
                "b_limit": evaluate(closed.b, values),
                "limit_kind": closed.kind,
                "closed_form": str(general),
                "closed_form_latex": sp.latex(general),
                "ab_T_to_infinity": evaluate(asymptote, values) if asymptote.is_finite is not False else None,
                "ab_T_to_infinity_latex": sp.latex(asymptote),
                "local_rate": evaluate(closed.rate, values),
                "conserved_a2_minus_b2": float(closed.conserved),
            }
        )
    else:
        payload.update(
            {
                "ab_closed_form": None,
                "closed_form_reason": reason,
                "a_limit": a_flow.tolist(),
                "b_limit": b_flow.tolist(),
                "limit_kind": "stationary point of the diagonal flow",
            }
        )
    if closed is not None and closed.kind == "saddle":
        payload["note"] = "a0 = -b0: the flow runs into the strict saddle at the origin (a b -> 0)"
    payload["seconds"] = time.perf_counter() - start
    lines = [f"x_1: {payload['x1']};  d = {d_}, T = {T}, (a0, b0) = ({a0}, {b0});  {regime}"]
    if closed is not None:
        lines += [
            f"closed form     lim ab = {payload['closed_form']}",
            f"                       = {payload['ab_closed_form']:.15g}   ({closed.kind})",
            f"integrated flow lim ab = {payload['ab_flow']:.15g}   "
            f"relative error {payload['relative_error']:.1e}",
            f"a_limit = {payload['a_limit']:.12g}, b_limit = {payload['b_limit']:.12g}",
            f"as T -> infinity: {sp.sstr(asymptote)} = {payload['ab_T_to_infinity']}",
        ]
    else:
        lines += [
            f"no closed form: {reason}",
            f"integrated flow lim ab = {payload['ab_flow']:.15g}",
            f"a_limit = {np.array2string(a_flow, precision=10)}",
            f"b_limit = {np.array2string(b_flow, precision=10)}",
        ]
    lines.append(
        f"certificate: |grad L| = {solution.gradient_norm:.1e}, Newton step {solution.newton_step:.1e}, "
        f"conserved drift {solution.conserved_drift:.1e}  ({payload['seconds']:.2f} s)"
    )
    _emit(payload, as_json, lines)


@main.command()
@click.option("--quick", is_flag=True, help="Smaller samples and grids (about a minute).")
@click.option("--only", multiple=True, help="Run only the named claims.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def check(quick, only, as_json):
    """Run every registered claim; exit 1 if any fails."""
    from .check import claim_fields
    from .registry import CLAIMS, run_claim

    claims = [c for c in CLAIMS if not only or c.__name__ in only]
    unknown = set(only) - {c.__name__ for c in CLAIMS}
    if unknown:
        raise click.BadParameter(f"no claim named {sorted(unknown)}", param_hint="--only")
    results = []
    for claim in claims:
        if not as_json:
            click.echo(f"  running {claim.__name__} ...", err=True)
        try:
            check_, seconds = run_claim(claim, quick=quick)
            row = check_.as_dict() | {"seconds": seconds, "reference": claim_fields(claim)["reference"]}
        except Exception as error:  # a claim that cannot run has failed, and says why
            row = {
                "claim": claim.__name__,
                "statement": claim_fields(claim)["claim"],
                "passed": False,
                "error": None,
                "kind": "error",
                "predicted": None,
                "measured": None,
                "failure": f"{type(error).__name__}: {error}",
            }
        results.append(row)
    failed = [r["claim"] for r in results if not r["passed"]]
    if as_json:
        click.echo(json.dumps({"passed": not failed, "failed": failed, "claims": results}, indent=2))
    else:
        click.echo(_table(results))
        click.echo(f"\n{len(results) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _table(rows: list[dict]) -> str:
    header = ("claim", "kind", "predicted", "measured", "error", "tolerance", "verdict")
    body = []
    for r in rows:
        tolerance = "-" if r.get("kind") in ("error", None) else f"rtol {r['rtol']:.0e}, atol {r['atol']:.1e}"
        verdict = "PASS" if r["passed"] else "FAIL" + (f" ({r['failure']})" if "failure" in r else "")
        body.append(
            (
                r["claim"],
                r["kind"],
                _fmt(r["predicted"]),
                _fmt(r["measured"]),
                _fmt(r["error"]),
                tolerance,
                verdict,
            )
        )
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(row, widths)) for row in (header, *body)]
    lines.insert(1, "  ".join("-" * w for w in widths))
    statements = [f"  {r['claim']}: {r['statement']}" for r in rows]
    return "\n".join(lines + ["", "statements:"] + statements)


@main.command()
@_law_options
@click.option("--eta", type=POSITIVE, default=1e-4, show_default=True, help="Gradient-descent step size.")
@click.option("--steps", type=click.IntRange(min=0), default=150, show_default=True)
@click.option(
    "--m", type=click.IntRange(min=1), default=10_000, show_default=True, help="Training sequences."
)
@click.option(
    "--m-test", type=click.IntRange(min=1), default=10_000, show_default=True, help="Test sequences."
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--log-every", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write the log (.json or .csv).")
@click.option(
    "--plot", type=click.Path(dir_okay=False, writable=True), help="Save a PNG of ab against the exact flow."
)
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def simulate(
    x1,
    sigma_value,
    c_value,
    atoms,
    d,
    T,
    a0,
    b0,
    mask,
    eta,
    steps,
    m,
    m_test,
    seed,
    log_every,
    out,
    plot,
    progress,
    as_json,
):
    """Finite-sample training as the reference runs it, beside the exact population flow."""
    from numeric.bridge import evaluate
    from numeric.flow import integrate_flow
    from numeric.simulate import simulate_training
    from symbolic.stationary import NotExchangeableError, emergence_limit

    if out and Path(out).suffix not in (".json", ".csv"):
        raise click.BadParameter("the log must end in .json or .csv", param_hint="--out")
    setting = _setting(x1, d, T, sigma_value, c_value, atoms)
    show = sys.stderr.isatty() if progress is None else progress
    start = time.perf_counter()
    run = simulate_training(
        setting.sampling_law,
        T=T,
        a0=a0,
        b0=b0,
        eta=eta,
        steps=steps,
        m=m,
        m_test=m_test,
        mask=mask,
        seed=seed,
        log_every=log_every,
        progress=show,
    )
    seconds = time.perf_counter() - start
    records = run.as_records()
    flow_ab = limit_ab = None
    if not (a0 == 0 and b0 == 0):
        try:
            regime = _require_diagonal_reduction(setting, mask)
            solution = integrate_flow(setting.law, a0, b0, values=setting.values)
            flow_ab = solution.ab_at(run.steps * eta)
            try:
                limit_ab = evaluate(emergence_limit(setting.law, a0, b0).ab, setting.values)
            except NotExchangeableError:
                limit_ab = float(solution.ab[-1])
        except click.UsageError as error:
            regime = f"no exact flow: {error.message}"
    else:
        regime = "no exact flow: (a0, b0) = (0, 0) is stationary"
    for row, value in zip(records, flow_ab if flow_ab is not None else [None] * len(records)):
        row["ab_exact_flow"] = None if value is None else float(value)
    payload = {
        "settings": run.settings,
        "seconds": seconds,
        "regime": regime,
        "ab_population_limit": limit_ab,
        "ab_final": records[-1]["ab"],
        "gap_to_population_limit": None if limit_ab is None else records[-1]["ab"] - limit_ab,
        "log": records,
    }
    if out:
        _write_log(Path(out), records)
    if plot:
        _plot(Path(plot), run, eta, setting, flow_ab, limit_ab)
    lines = [
        f"{setting.description}, d = {setting.law.d}, T = {T}, m = {m}, eta = {eta:g}, {steps} steps "
        f"({seconds:.1f} s)",
        f"{'step':>6} {'ab':>10} {'ab (flow)':>10} {'test loss':>12} {'ratio':>8}",
    ]
    for r in records:
        flow = "-" if r["ab_exact_flow"] is None else f"{r['ab_exact_flow']:.4f}"
        lines.append(f"{r['step']:>6} {r['ab']:>10.4f} {flow:>10} {r['test_loss']:>12.5g} {r['ratio']:>8.4f}")
    if limit_ab is not None:
        lines.append(
            f"exact population limit of ab: {limit_ab:.6g}; gap of the last step: "
            f"{payload['gap_to_population_limit']:+.3g}"
        )
    _emit(payload, as_json, lines)


def _write_log(path: Path, records: list[dict]) -> None:
    if path.suffix == ".json":
        path.write_text(json.dumps(records, indent=2))
        return
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)


def _plot(path: Path, run, eta, setting, flow_ab, limit_ab) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot(run.steps, run.ab, "o-", label=f"finite sample (m = {run.settings['m']})")
    if flow_ab is not None:
        from numeric.flow import integrate_flow

        solution = integrate_flow(setting.law, run.settings["a0"], run.settings["b0"], values=setting.values)
        dense = np.linspace(0, run.steps[-1], 400)
        axis.plot(dense, solution.ab_at(dense * eta), "-", label="exact population flow, tau = eta k")
    if limit_ab is not None:
        axis.axhline(limit_ab, ls="--", c="k", lw=1, label=f"exact limit {limit_ab:.4f}")
    axis.set_xlabel("gradient-descent step k")
    axis.set_ylabel("ab")
    axis.set_title(f"{setting.description}, d = {setting.law.d}, T = {run.settings['T']}")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
