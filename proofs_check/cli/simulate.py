"""``mesacheck simulate``: finite-sample training as the reference runs it, beside the exact flow."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import click

from ..costs import guard, simulate_cost
from ._common import (
    POSITIVE,
    emit,
    output_path,
    progress_wanted,
    require_diagonal_reduction,
    setting_options,
    start_atol,
)
from ._process import exact_setting_cost, process_options


@click.command()
@setting_options(sampling=True)
@process_options(sampling=True)
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
@click.option("--out", callback=output_path(".json", ".csv"), help="Write the log (.json or .csv).")
@click.option("--plot", callback=output_path(".png"), help="Save a PNG of ab against the exact flow.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr (default: on a terminal, not --json).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def simulate(
    setting,
    process,
    a0,
    b0,
    mask,
    force,
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
    from mesacheck.numeric.bridge import evaluate
    from mesacheck.numeric.flow import integrate_flow
    from mesacheck.numeric.simulate import simulate_training
    from mesacheck.symbolic.stationary import NotExchangeableError, emergence_limit

    T = setting.T
    if setting.digits:
        raise click.UsageError(
            f"x_1 has scale 10^{setting.digits}: the sampled training runs in double precision and "
            f"would over- or underflow; simulate x_1 / 10^{setting.digits} instead (the flow is invariant: "
            "a b scales by 1/scale^2 and time by 1/scale^4), or use `mesacheck limit`"
        )
    guard(
        simulate_cost(setting.law.d, T, m=m, m_test=m_test, steps=steps, log_every=log_every, masked=mask),
        force,
    )
    show = progress_wanted(as_json) if progress is None else progress
    start = time.perf_counter()
    exact = process(setting.sampling_law)
    run = simulate_training(
        exact,
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
    if not exact.is_paper_process:
        regime, limit_ab = _setting_limit(exact, T, force)
    elif not (a0 == 0 and b0 == 0):
        try:
            regime = require_diagonal_reduction(setting, mask)
            solution = integrate_flow(setting.law, a0, b0, values=setting.values, atol=start_atol(a0, b0))
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
    emit(payload, as_json, lines)


def _setting_limit(exact, T: int, force: bool):
    """Beyond the paper's process: the exact p* of the diagonal model when it is derived (no
    noise, exchangeable x_1), with no exact trajectory drawn beside the sampled one."""
    from mesacheck.symbolic.symmetric_line import symmetric_line

    if exact.noise.present:
        return f"{exact.describe()}: no exact flow (noise averages are not derived yet)", None
    exact_setting_cost(T, force)
    try:
        return f"{exact.describe()}: exact p* = beta/alpha of the diagonal model", float(
            symmetric_line(exact, T).ab_star
        )
    except (ValueError, ZeroDivisionError) as error:
        return f"{exact.describe()}: no exact limit ({error})", None


def _write_log(path: Path, records: list[dict]) -> None:
    if path.suffix == ".json":
        path.write_text(json.dumps(records, indent=2))
        return
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)


def _plot(path: Path, run, eta, setting, flow_curve, limit_ab) -> None:
    from ..plots import ab_against_flow

    title = f"{setting.description}, d = {setting.law.d}, T = {run.settings['T']}"
    ab_against_flow(run, eta, flow_curve, limit_ab, title).savefig(path, dpi=120)
