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


_BUILT_IN = ("gaussian", "sparse", "full-one", "atoms", "iid")


@dataclass(frozen=True)
class _Setting:
    """A law of x_1 as the user gave it: symbolic (for closed forms) plus values."""

    law: object  # symbolic.moments.Distribution, with parameters as symbols
    values: dict  # symbol name -> exact value, T included
    sampling_law: object  # the same law with numbers in place of its parameters
    description: str


def _setting(x1, d, T, sigma_value, c_value, atoms, moments=None) -> _Setting:

    from symbolic.moments import Atoms, exact_number, full_one, gaussian, iid, sparse

    if T < 3:
        raise click.BadParameter(f"the sequence length T must be >= 3, got {T}", param_hint="--T")
    if x1 not in _BUILT_IN:
        from .extensions import extension_laws

        extensions = extension_laws()
        if x1 not in extensions:
            known = ", ".join([*_BUILT_IN, *sorted(extensions)])
            raise click.BadParameter(f"unknown law {x1!r}; choose one of {known}", param_hint="--x1")
        if sigma_value is not None or c_value is not None or atoms is not None or moments is not None:
            raise click.BadParameter(f"an extension's law ({x1}) takes only --d", param_hint="--x1")
        law = extensions[x1](5 if d is None else d)
        return _Setting(law, {"T": T}, law, f"{x1} (extension)")
    if atoms is not None and x1 != "atoms":
        raise click.BadParameter("--atoms goes with --x1 atoms", param_hint="--atoms")
    if x1 != "gaussian" and sigma_value is not None:
        raise click.BadParameter("--sigma goes with --x1 gaussian", param_hint="--sigma")
    if x1 != "sparse" and c_value is not None:
        raise click.BadParameter("--c goes with --x1 sparse", param_hint="--c")
    if (moments is not None) != (x1 == "iid"):
        raise click.BadParameter(
            "--moments goes with --x1 iid, and --x1 iid needs it", param_hint="--moments"
        )
    if x1 == "iid":
        try:
            spec = json.loads(moments)
            if not isinstance(spec, dict):
                raise ValueError("expected a JSON object")
            law = iid(5 if d is None else d, spec)
        except (ValueError, json.JSONDecodeError) as error:
            raise click.BadParameter(str(error), param_hint="--moments") from error
        return _Setting(law, {"T": T}, law, f"i.i.d. coordinates with moments {spec}")
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
        value = exact_number(1.0 if sigma_value is None else sigma_value)
        return _Setting(
            gaussian(d), {"sigma": value, "T": T}, gaussian(d, value), f"Gaussian, sigma = {value}"
        )
    if x1 == "sparse":
        value = exact_number(1.0 if c_value is None else c_value)
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
            default="gaussian",
            show_default=True,
            help="The law of the initial token x_1: gaussian, sparse, full-one, atoms, iid, or the "
            "NAME of an extension (proofs_check/extensions), e.g. complex-gaussian.",
        ),
        click.option("--sigma", "sigma_value", type=POSITIVE, help="Gaussian scale (default 1)."),
        click.option("--c", "c_value", type=POSITIVE, help="Sparse scale (default 1)."),
        click.option(
            "--atoms", help='Atoms as JSON {"points": [[...]], "weights": ["1/2", ...]} or a JSON file.'
        ),
        click.option(
            "--moments", help='For --x1 iid: JSON {"2": 1, "4": 3, "6": 15} (E x^n, n = 1..6; others 0).'
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
    from symbolic.conditions import emergence_condition

    if mask:
        return "masked: the off-diagonal entries of the prediction blocks are held at 0"
    offending = emergence_condition(setting.law, int(setting.values["T"]))
    if not offending:
        return (
            "unmasked: the emergence condition holds, so the full flow keeps the diagonal prediction blocks"
        )
    raise click.UsageError(
        f"the emergence condition fails for this law ({len(offending)} non-zero coefficients, e.g. "
        f"{next(iter(offending))}; see `mesacheck conditions`): the diagonal closed form does not describe "
        "unmasked training; pass --mask for the reference's masked training (--clip), or use "
        "`mesacheck flow --full` for the exact full flow"
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
def limit(x1, sigma_value, c_value, atoms, moments, d, T, a0, b0, mask, tau_max, as_json):
    """The limit of a b: closed form against the integrated exact flow."""
    import sympy as sp

    from numeric.bridge import evaluate
    from numeric.flow import integrate_flow
    from symbolic.population_loss import T as T_symbol
    from symbolic.stationary import NotExchangeableError, emergence_limit

    start = time.perf_counter()
    setting = _setting(x1, d, T, sigma_value, c_value, atoms, moments)
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
@click.option("--quick", is_flag=True, help="The smallest settings that still test each claim.")
@click.option("--only", multiple=True, help="Run only the named claims (see --list).")
@click.option("--list", "list_claims", is_flag=True, help="Name every claim and stop.")
@click.option("--verbose", is_flag=True, help="Add each claim's statement, tolerance and full values.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def check(quick, only, list_claims, verbose, as_json):
    """Run every registered claim (in parallel); exit 1 if any fails."""
    from .report import run_check

    try:
        sys.exit(run_check(only, quick=quick, list_claims=list_claims, verbose=verbose, as_json=as_json))
    except KeyError as error:
        raise click.BadParameter(f"no claim named {error.args[0]}; see --list", param_hint="--only") from None


@main.command()
@click.option(
    "--source",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The book's folder (default: ./book of a mesacheck checkout).",
)
@click.option("--full", is_flag=True, help="Run the chapters' claims at full settings (slower).")
@click.option("--verbose", is_flag=True, help="Show Sphinx's output while it builds.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def book(source, full, verbose, progress, as_json):
    """Build the Jupyter Book (every chapter executed, warnings as errors) and say where it is."""
    from .book import build_book

    show = sys.stderr.isatty() and not verbose if progress is None else progress
    start = time.perf_counter()
    try:
        index = build_book(source, full=full, quiet=not verbose, progress=show)
    except (FileNotFoundError, RuntimeError) as error:
        raise click.ClickException(str(error)) from error
    seconds = time.perf_counter() - start
    payload = {"index": str(index), "seconds": seconds, "full_settings": full}
    _emit(payload, as_json, [f"the book is built ({seconds:.0f} s): {index}"])


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
    moments,
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
    if x1 == "iid":
        raise click.BadParameter(
            "simulate samples x_1: give a family or atoms, not moments", param_hint="--x1"
        )
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
    flow_ab = limit_ab = flow_curve = None
    if not (a0 == 0 and b0 == 0):
        try:
            regime = _require_diagonal_reduction(setting, mask)
            solution = integrate_flow(setting.law, a0, b0, values=setting.values)
            flow_curve = solution.ab_at
            flow_ab = flow_curve(run.steps * eta)
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
        _plot(Path(plot), run, eta, setting, flow_curve, limit_ab)
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


@main.command()
@_law_options
@click.option("--T-test", "T_test", type=int, help="Test sequence length (default: T).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def recovery(x1, sigma_value, c_value, atoms, moments, d, T, a0, b0, mask, T_test, as_json):
    """Whether the trained mesa-optimizer recovers the sequence (the recovery condition), with
    the limit of its error, its expected ratio and its exact test loss."""
    import sympy as sp

    from numeric.bridge import evaluate
    from symbolic.capability import error_limit, expected_ratio, p, recovery_condition, test_loss
    from symbolic.conditions import equal_diagonal_condition
    from symbolic.population_loss import T as T_symbol

    del a0, b0
    T_test = T if T_test is None else T_test
    if T_test < 3:
        raise click.BadParameter(f"the test length must be >= 3, got {T_test}", param_hint="--T-test")
    setting = _setting(x1, d, T, sigma_value, c_value, atoms, moments)
    why = _require_diagonal_reduction(setting, mask)
    law = setting.law
    if equal_diagonal_condition(setting.sampling_law, T):
        raise click.UsageError(
            "the equal-diagonal condition fails for this law: the trained step is preconditioned and "
            "the recovery analysis here assumes one step size (see `mesacheck conditions`)"
        )
    condition = recovery_condition(law)
    values = {k: v for k, v in setting.values.items() if k != "T"}
    p_T = evaluate(condition.p_T, setting.values)
    p_inf = sp.limit(condition.p_T, T_symbol, sp.oo)
    error = evaluate(error_limit(law).subs(p, p_T), values)
    ratio = evaluate(expected_ratio(law).subs(p, p_T), {**values, "t": T_test - 1})
    loss = evaluate(test_loss(law).subs(p, p_T), {**values, "T_test": T_test})
    holds_T, holds_inf = condition.holds_at(T), condition.holds_as_T_grows
    payload = {
        "law": setting.description,
        "d": law.d,
        "T": T,
        "T_test": T_test,
        "emergence": why,
        "p_T": p_T,
        "p_T_closed_form": str(condition.p_T),
        "p_T_to_infinity": str(p_inf),
        "recovery_holds_at_T": holds_T,
        "recovery_holds_as_T_grows": holds_inf,
        "residual_at_T": str(condition.residual_T),
        "residual_T_to_infinity": str(condition.residual_infinity),
        "error_limit_t_to_infinity": error,
        "error_limit_closed_form": str(sp.factor(error_limit(law).subs(p, condition.p_T))),
        "expected_ratio_closed_form": str(sp.factor(expected_ratio(law).subs(p, condition.p_T))),
        "expected_ratio_T_to_infinity": str(sp.limit(expected_ratio(law).subs(p, p_inf), T_symbol, sp.oo)),
        "test_loss_closed_form": str(test_loss(law).subs(p, sp.Symbol("p_T"))),
        "expected_ratio_last_position": ratio,
        "test_loss": loss,
        "test_loss_per_position": loss / (T_test - 2),
    }
    verdict = {True: "holds", False: "FAILS"}
    lines = [
        f"{setting.description}, d = {law.d}, trained at T = {T}, tested at T_test = {T_test}",
        f"trained step a b = p(T) = {p_T:.12g}   [{condition.p_T}; T -> oo: {p_inf}]",
        f"recovery condition at T = {T}: {verdict[holds_T]}; as T grows: {verdict[holds_inf]}",
        f"  residual E[|x_j|^2 (p |x_j|^2 - 1)^2] at p(T): {condition.residual_T}",
        f"  as T grows: {condition.residual_infinity}",
        f"lim_t E||y_t - x_(t+1)||^2 = {error:.6g}",
        f"expected ratio Re(y_(T_test-1) / x_(T_test)) = {ratio:.6g}"
        f"   [{sp.factor(expected_ratio(law).subs(p, condition.p_T))}]",
        f"exact expected test loss = {loss:.6g} ({loss / (T_test - 2):.4g} per position)",
    ]
    _emit(payload, as_json, lines)


@main.command()
@_law_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def conditions(x1, sigma_value, c_value, atoms, moments, d, T, a0, b0, mask, as_json):
    """Which moment conditions hold: emergence (the full flow keeps the diagonal prediction
    blocks) and equal diagonal (the learned step is vanilla GD); the offending coefficients
    when one fails."""
    import sympy as sp

    from symbolic.conditions import emergence_condition, emergence_patterns, equal_diagonal_condition

    del a0, b0, mask  # shared law options; conditions do not depend on them
    setting = _setting(x1, d, T, sigma_value, c_value, atoms, moments)
    law = setting.sampling_law
    emergence = emergence_condition(law, T)
    equal = equal_diagonal_condition(law, T) if not emergence else None
    patterns = emergence_patterns(min(law.d, 3), T) if law.real else None
    payload = {
        "law": setting.description,
        "d": law.d,
        "T": T,
        "emergence_condition": {
            "holds": not emergence,
            "general_form": "E[x_j^3 x_k] = E[x_j^5 x_k] = E[x_j^3 x_k^3] = E[x_j^3 x_k x_l^2] = 0, "
            "j, k, l distinct (real x_1)",
            "patterns": patterns,
            "offending": {k: str(v) for k, v in emergence.items()},
        },
        "equal_diagonal_condition": None
        if equal is None
        else {"holds": not equal, "offending": {k: str(v) for k, v in equal.items()}},
    }
    lines = [f"{setting.description}, d = {law.d}, T = {T}"]
    lines.append(f"emergence condition: {'holds' if not emergence else 'FAILS'}")
    for k, v in list(emergence.items())[:12]:
        lines.append(f"  coefficient {k} = {sp.sstr(v)} (must be 0)")
    if len(emergence) > 12:
        lines.append(f"  ... {len(emergence) - 12} more (see --json)")
    if equal is None:
        lines.append("equal-diagonal condition: not applicable (the diagonal model is not invariant)")
    else:
        lines.append(
            "equal-diagonal condition: "
            + ("holds (vanilla GD)" if not equal else "FAILS (preconditioned step)")
        )
        for k, v in list(equal.items())[:12]:
            lines.append(f"  coefficient {k} = {sp.sstr(v)} (must be 0)")
    _emit(payload, as_json, lines)


@main.command()
@_law_options
@click.option("--full", is_flag=True, help="Integrate every entry of W^KQ and W^PV (required for now).")
@click.option("--init", type=click.Choice(["diagonal", "random"]), default="diagonal", show_default=True)
@click.option("--sigma-w", type=POSITIVE, default=0.1, show_default=True, help="Scale of --init random.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --init random.")
@click.option("--tau-max", type=POSITIVE, default=1e5, show_default=True, help="Time budget of the flow.")
@click.option(
    "--heatmap", type=click.Path(dir_okay=False), help="Save heatmaps of the learned W^KQ, W^PV (PNG)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def flow(
    x1,
    sigma_value,
    c_value,
    atoms,
    moments,
    d,
    T,
    a0,
    b0,
    mask,
    full,
    init,
    sigma_w,
    seed,
    tau_max,
    heatmap,
    as_json,
):
    """The exact full-parameter gradient flow: its limit, certificate and structure."""
    from numeric.full_flow import full_model, integrate_full_flow, random_initialization, structure_of
    from numeric.simulate import diagonal_initialization

    if not full:
        raise click.UsageError(
            "only the full flow is offered here (--full); the diagonal flow is `mesacheck limit`"
        )
    if heatmap and Path(heatmap).suffix != ".png":
        raise click.BadParameter("the heatmap file must end in .png", param_hint="--heatmap")
    setting = _setting(x1, d, T, sigma_value, c_value, atoms, moments)
    law = setting.sampling_law
    if init == "random" and mask:
        raise click.BadParameter("--mask needs zero off-diagonal prediction blocks: use --init diagonal")
    start_time = time.perf_counter()
    model = full_model(law, T)
    if init == "diagonal":
        start = diagonal_initialization(law.d, a0, b0)
    else:
        start = random_initialization(law.d, sigma_w, np.random.default_rng(seed))
    solution = integrate_full_flow(model, *start, mask=mask, tau_max=tau_max)
    W_KQ, W_PV = solution.limit
    structure = structure_of(W_KQ, W_PV)
    wall = time.perf_counter() - start_time
    if heatmap:
        _heatmaps(
            Path(heatmap),
            W_KQ,
            W_PV,
            f"{setting.description}, d = {law.d}, T = {T}, {'masked' if mask else 'unmasked'}",
        )
    payload = {
        "law": setting.description,
        "d": law.d,
        "T": T,
        "init": init,
        "mask": mask,
        "ab": float(solution.ab[-1]),
        "loss": float(solution.loss[-1]),
        "structure": structure,
        "certificate": {
            "gradient_norm": solution.gradient_norm,
            "conserved_drift": solution.conserved_drift,
            "gtol": solution.gtol,
            "rtol": solution.rtol,
        },
        "tau_end": float(solution.tau[-1]),
        "W_KQ": [[str(complex(v)) if v.imag else float(v.real) for v in row] for row in W_KQ],
        "W_PV": [[str(complex(v)) if v.imag else float(v.real) for v in row] for row in W_PV],
        "heatmap": heatmap,
        "wall_seconds": wall,
    }
    lines = [
        f"{setting.description}, d = {law.d}, T = {T}, init {init}, {'masked' if mask else 'unmasked'}",
        f"ab (mean Re W_KQ[d+j,j] Re W_PV[j,j]) = {solution.ab[-1]:.15g}",
        f"loss = {solution.loss[-1]:.15g}; structure: {structure}",
        f"certificate: |grad L| = {solution.gradient_norm:.2e}, "
        f"conserved drift = {solution.conserved_drift:.2e}",
        f"tau = {solution.tau[-1]:.4g}; wall {wall:.1f} s",
        *([f"heatmaps in {heatmap}"] if heatmap else []),
    ]
    _emit(payload, as_json, lines)


def _heatmaps(path: Path, W_KQ, W_PV, title: str) -> None:
    from .plots import heatmaps

    heatmaps(W_KQ, W_PV, title).savefig(path, dpi=120)


def _write_log(path: Path, records: list[dict]) -> None:
    if path.suffix == ".json":
        path.write_text(json.dumps(records, indent=2))
        return
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)


def _plot(path: Path, run, eta, setting, flow_curve, limit_ab) -> None:
    from .plots import ab_against_flow

    title = f"{setting.description}, d = {setting.law.d}, T = {run.settings['T']}"
    ab_against_flow(run, eta, flow_curve, limit_ab, title).savefig(path, dpi=120)
