"""``mesacheck simulate``: finite-sample training as the reference runs it, beside the exact flow."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import click

from ._common import POSITIVE, emit, output_path, progress_wanted, setting_options
from ._model import model_options
from ._process import process_options


@click.command()
@setting_options(sampling=True)
@process_options(sampling=True)
@model_options(supported=True)
@click.option(
    "--init",
    type=click.Choice(["diagonal", "random"]),
    default="diagonal",
    show_default=True,
    help="Start: the paper's diagonal (--a0, --b0) or every entry N(0, sigma_w^2).",
)
@click.option("--sigma-w", type=POSITIVE, default=0.1, show_default=True, help="Scale of --init random.")
@click.option("--init-seed", type=int, default=0, show_default=True, help="Seed of --init random.")
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
    model,
    init,
    sigma_w,
    init_seed,
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
    from ..verbs.simulate import simulate as train_beside_flow

    T = setting.T
    result = train_beside_flow(
        process(setting.sampling_law),
        T,
        a0,
        b0,
        eta=eta,
        steps=steps,
        m=m,
        m_test=m_test,
        seed=seed,
        log_every=log_every,
        mask=mask,
        law=setting,
        force=force,
        progress=progress_wanted(as_json) if progress is None else progress,
        model=model,
        init=init,
        sigma_w=sigma_w,
        init_seed=init_seed,
    )
    payload, records, run = result.report, result.records, result.run
    seconds, limit_ab, flow_curve = payload["seconds"], result.ab_population_limit, result.flow_curve
    if out:
        _write_log(Path(out), records)
    if plot:
        _plot(Path(plot), run, eta, setting, flow_curve, limit_ab)
    described = payload["settings"].get("model")
    lines = [
        f"{setting.description}, d = {setting.law.d}, T = {T}, m = {m}, eta = {eta:g}, {steps} steps "
        f"({seconds:.1f} s)",
        *([f"model: {described['description']}, init {init}; {result.regime}"] if described else []),
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
