"""``mesacheck simulate``: finite-sample training as the reference runs it, beside the exact flow."""

from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path

import click

from ._common import POSITIVE, emit, require_diagonal_reduction, setting_options


@click.command()
@setting_options(sampling=True)
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
    setting,
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
    T = setting.T
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
            regime = require_diagonal_reduction(setting, mask)
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
    emit(payload, as_json, lines)


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
