"""``mesacheck flow --full``: the exact full-parameter gradient flow."""

from __future__ import annotations

import math
from pathlib import Path

import click

from ._common import POSITIVE, emit, output_path, progress_wanted, setting_options
from ._model import model_options
from ._process import process_options


@click.command()
@setting_options()
@process_options()
@model_options(supported=True)
@click.option("--full", is_flag=True, help="Integrate every entry of W^KQ and W^PV (required for now).")
@click.option("--init", type=click.Choice(["diagonal", "random"]), default="diagonal", show_default=True)
@click.option("--sigma-w", type=POSITIVE, default=0.1, show_default=True, help="Scale of --init random.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --init random.")
@click.option("--tau-max", type=POSITIVE, default=1e5, show_default=True, help="Time budget of the flow.")
@click.option(
    "--report-unfinished",
    is_flag=True,
    help="Report the state at --tau-max, marked not stationary, instead of refusing it (for sweeps; "
    "e.g. a degenerate minimum, where the gradient decays only algebraically).",
)
@click.option(
    "--heatmap", callback=output_path(".png"), help="Save heatmaps of the learned W^KQ, W^PV (PNG)."
)
@click.option(
    "--certify",
    is_flag=True,
    help="Prove in interval arithmetic that a unique stationary point lies within 1e-9 of the limit, "
    "and its Hessian's inertia (real laws with rational moments, d <= 5, unmasked).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def flow(
    setting,
    process,
    model,
    a0,
    b0,
    mask,
    force,
    full,
    init,
    sigma_w,
    seed,
    tau_max,
    report_unfinished,
    heatmap,
    certify,
    as_json,
):
    """The exact full-parameter gradient flow: its limit, certificate and structure."""
    from ..verbs.full_flow import full_flow

    if not full:
        raise click.UsageError(
            "only the full flow is offered here (--full); the diagonal flow is `mesacheck limit`"
        )
    if init == "random" and mask:
        raise click.BadParameter("--mask needs zero off-diagonal prediction blocks: use --init diagonal")
    T = setting.T
    show = progress_wanted(as_json)
    bars: list[_FlowProgress] = []

    def progress_bar(gtol: float) -> _FlowProgress:
        bars.append(_FlowProgress(gtol))
        return bars[-1]

    try:
        result = full_flow(
            process(setting.sampling_law),
            T,
            a0,
            b0,
            init=init,
            sigma_w=sigma_w,
            seed=seed,
            mask=mask,
            tau_max=tau_max,
            allow_unfinished=report_unfinished,
            law=setting,
            force=force,
            show_cost=show,
            progress=progress_bar if show else None,
            certify=certify,
            model=model,
        )
    finally:
        for bar in bars:
            bar.close()
    solution, W_KQ, W_PV = result.solution, result.W_KQ, result.W_PV
    structure, stationary, exact_limit = result.structure, result.stationary, result.exact_limit
    law = setting.law
    if heatmap:
        _heatmaps(
            Path(heatmap),
            W_KQ,
            W_PV,
            f"{setting.description}, d = {law.d}, T = {T}, {'masked' if mask else 'unmasked'}",
        )
    payload = {key: value for key, value in result.report.items() if key != "wall_seconds"}
    wall = result.report["wall_seconds"]
    payload.update({"heatmap": heatmap, "wall_seconds": wall})
    lines = [
        f"{setting.description}, d = {law.d}, T = {T}, init {init}, {'masked' if mask else 'unmasked'}",
        *(
            [f"model: {result.model.describe()} (W_KQ, W_PV below: the first head's)"]
            if not result.model.is_paper
            else []
        ),
        (
            f"ab (mean Re W_KQ[d+j,j] Re W_PV[j,j]) = {solution.ab[-1]:.15g}"
            if result.model.is_paper
            else f"ab (mean over j of Re sum_h W_KQ_h[d+j,j] W_PV_h[j,j]) = {solution.ab[-1]:.15g}"
        ),
        f"loss = {solution.loss[-1]:.15g}; structure: {structure} "
        f"(largest entry off the diagonal pattern {payload['off_diagonal']:.1e})",
        *(
            [
                f"exact mesa-optimizer p* = {exact_limit['ab']:.15g}: every a_j b_j within "
                f"{exact_limit['max_relative_gap']:.1e} of it; "
                + ("reached" if exact_limit["reached"] else "not reached")
            ]
            if exact_limit
            else []
        ),
        f"certificate: |grad L| = {solution.gradient_norm:.2e}, "
        f"conserved drift = {solution.conserved_drift:.2e}"
        + ("" if stationary else f"; NOT stationary by tau = {tau_max:g} (|grad L| > {solution.gtol:.1e})"),
        *(_certificate_lines(payload["certified"]) if certify else []),
        f"tau = {solution.tau[-1]:.4g}; wall {wall:.1f} s",
        *([f"heatmaps in {heatmap}"] if heatmap else []),
    ]
    emit(payload, as_json, lines)


def _certificate_lines(certified: dict) -> list[str]:
    lines = [f"certify: box of half-width {certified['radius']:.0e} around the limit: {certified['verdict']}"]
    if certified.get("unique_zero"):
        real, imaginary = certified["real_inertia"], certified["imaginary_inertia"]
        lines.append(
            f"  Krawczyk contraction {certified['contraction']:.2e} (< 1 proves the zero); Hessian "
            f"on the real parts: {real[0]} > 0 (Gershgorin bound {certified['real_lower_bound']:.3g}), "
            f"{real[1]} zero (rescaling), {real[2]} undecided; imaginary parts: {imaginary[0]} > 0, "
            f"{imaginary[1]} zero (phase), {imaginary[2]} undecided"
        )
    return lines


def _heatmaps(path: Path, W_KQ, W_PV, title: str) -> None:
    from ..plots import heatmaps

    heatmaps(W_KQ, W_PV, title).savefig(path, dpi=120)


class _FlowProgress:
    """A bar on stderr over the decades by which |grad L| still has to fall to the stopping rule."""

    def __init__(self, gtol: float):
        self.gtol, self.bar, self.start = gtol, None, 0.0

    def __call__(self, tau: float, gradient_norm: float) -> None:
        from tqdm.auto import tqdm

        level = math.log10(max(gradient_norm, self.gtol))
        if self.bar is None:
            self.start = level
            total = round(level - math.log10(self.gtol), 1)
            self.bar = tqdm(total=total, desc="full flow (decades of |grad L|)", unit="dec", leave=False)
        self.bar.n = min(self.bar.total, max(self.bar.n, round(self.start - level, 1)))
        self.bar.set_postfix(tau=f"{tau:.3g}", refresh=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
