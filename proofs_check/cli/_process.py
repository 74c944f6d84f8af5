"""The options that set the process and the loss (the law of W, noise, the trained positions),
read the same way by every command into a :class:`mesacheck.symbolic.setting.Setting`."""

from __future__ import annotations

import functools

import click

from ._common import FINITE, read_expression

__all__ = ["process_options"]

_PROCESS_OPTIONS = [
    click.option(
        "--r",
        "radius",
        type=FINITE,
        default=1.0,
        show_default=True,
        help="Modulus of W's entries: lambda = r e^{i theta} (0 < r <= 1; r < 1 is a contraction).",
    ),
    click.option(
        "--phases",
        default="uniform",
        show_default=True,
        help="Phases of W's entries: uniform on the circle, or roots:N (the N-th roots of unity; "
        "roots:2 is the real process W = diag(+-1)), or NAME:PARAMETER of a law of W that an extension "
        "adds (mesacheck check --list shows the extensions).",
    ),
    click.option(
        "--modulus",
        default=None,
        help="A random modulus of W's entries, lambda = rho e^{i theta} with uniform theta, as JSON: "
        '{"atoms": {"0.9": 0.5, "1": 0.5}} (radius: probability) or {"moments": "1/(k+1)"} '
        "(E rho^(2k) as a rational function of k; 1/(k+1) is lambda uniform in the unit disk).",
    ),
    click.option(
        "--noise",
        "noise_scale",
        type=FINITE,
        default=0.0,
        show_default=True,
        help="Scale s of additive noise x_{t+1} = W x_t + xi_t (s >= 0).",
    ),
    click.option(
        "--noise-moments",
        default=None,
        help='A non-Gaussian noise law by its moments, JSON {"2": E|xi|^2, "4": E|xi|^4, "6": E|xi|^6} '
        "(complex: circular; real: symmetric), instead of --noise.",
    ),
    click.option(
        "--noise-kind",
        type=click.Choice(["complex", "real"]),
        default="complex",
        show_default=True,
        help="Noise law: circular complex CN(0, s^2) or real N(0, s^2).",
    ),
    click.option(
        "--loss-positions",
        type=click.Choice(["all", "last"]),
        default="all",
        show_default=True,
        help="Positions the loss sums: every t = 2..T-1 (the paper) or the last only.",
    ),
]


def _phase_law(radius: float, phases: str, modulus: str | None = None):
    from mesacheck.symbolic.setting import PhaseLaw

    if modulus is not None:
        if radius != 1 or phases != "uniform":
            raise click.UsageError(
                "--modulus gives the law of |lambda| with uniform phases: drop --r and --phases"
            )
        return _modulus_law(modulus)
    if not 0 < radius <= 1:
        raise click.BadParameter(
            f"r must lie in (0, 1] (|lambda| > 1 explodes), got {radius:g}", param_hint="--r"
        )
    if phases.strip().partition(":")[0] not in PhaseLaw.option_names():
        from mesacheck.proofs_check.extensions import extension_modules

        extension_modules()  # a law of W added by an extension registers its name on import
    try:
        law = PhaseLaw.from_option(phases)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--phases") from None
    if radius == 1:
        return law
    try:
        return law.with_radius(radius)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--r") from None


def process_options(*, sampling: bool = False):
    """Add the process options; the command receives ``process``: a function law -> Setting.
    A command that is not ``sampling`` needs exact averages, so it refuses the noisy settings
    they are not derived for (real noise under a contraction, noise under a random modulus)."""

    def decorate(command):
        @functools.wraps(command)
        def wrapper(
            *, radius, phases, modulus, noise_scale, noise_moments, noise_kind, loss_positions, **rest
        ):
            from mesacheck.symbolic.moments import exact_number, gaussian
            from mesacheck.symbolic.noise_counts import check_noise_supported
            from mesacheck.symbolic.setting import Noise, Setting

            phase_law = _phase_law(radius, phases, modulus)
            if noise_scale < 0:
                raise click.BadParameter(
                    f"the noise scale s must be >= 0, got {noise_scale:g}", param_hint="--noise"
                )
            if noise_moments is not None:
                if noise_scale:
                    raise click.UsageError("give --noise (Gaussian) or --noise-moments, not both")
                noise = _noise_by_moments(noise_moments, noise_kind)
            else:
                noise = Noise(noise_kind, exact_number(noise_scale)) if noise_scale else Noise()
            if noise.present and not sampling:
                try:
                    check_noise_supported(Setting(gaussian(1), phase_law, noise))
                except NotImplementedError as error:
                    raise click.UsageError(f"{error}; `mesacheck simulate` samples it") from None

            def process(law):
                return Setting(law, phase_law, noise, positions=loss_positions)

            return command(process=process, **rest)

        for option in reversed(_PROCESS_OPTIONS):
            wrapper = option(wrapper)
        return wrapper

    return decorate


def _modulus_law(text: str):
    """A random modulus from --modulus: {"atoms": {radius: probability}} or {"moments": "..."}."""
    from mesacheck.symbolic.moments import exact_number
    from mesacheck.symbolic.setting import modulus_atoms, random_modulus

    from ._common import _load_json

    spec = _load_json(text, "--modulus", read_files=False)
    if not (isinstance(spec, dict) and len(spec) == 1 and next(iter(spec)) in ("atoms", "moments")):
        raise click.BadParameter(
            'give {"atoms": {"radius": probability, ...}} or {"moments": "expression in k"}',
            param_hint="--modulus",
        )
    try:
        if "atoms" in spec:
            atoms = spec["atoms"]
            if not isinstance(atoms, dict) or len(atoms) > _MAX_MODULUS_ATOMS:
                raise ValueError(
                    f"the atoms are an object of at most {_MAX_MODULUS_ATOMS} radius: probability pairs"
                )
            return modulus_atoms({exact_number(r): exact_number(p) for r, p in atoms.items()})
        return random_modulus(_moment_expression(spec["moments"]))
    except (TypeError, ValueError, ArithmeticError) as error:
        raise click.BadParameter(str(error).splitlines()[0][:300], param_hint="--modulus") from None


def _moment_expression(text):
    """E rho^(2k) from text, read without evaluating it (:func:`._common.read_expression`): a
    rational function of k, with powers to integers or to a*k + b."""
    from mesacheck.symbolic.setting import k_symbol

    return read_expression(text, {"k": k_symbol}, "the moments", exponents_in=(k_symbol,))


_MAX_MODULUS_ATOMS = 64


def _noise_by_moments(text: str, kind: str):
    from mesacheck.symbolic.moments import exact_number
    from mesacheck.symbolic.setting import Noise

    from ._common import _load_json

    spec = _load_json(text, "--noise-moments", read_files=False)
    if not isinstance(spec, dict) or sorted(spec) != ["2", "4", "6"]:
        raise click.BadParameter(
            'give {"2": ..., "4": ..., "6": ...}: the moments of degree 2, 4 and 6',
            param_hint="--noise-moments",
        )
    try:
        values = tuple(exact_number(spec[k]) for k in ("2", "4", "6"))
    except (TypeError, ValueError) as error:
        raise click.BadParameter(
            f"the moments must be numbers: {error}", param_hint="--noise-moments"
        ) from None
    try:
        return Noise(kind, moments=values)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--noise-moments") from None
