"""What every command shares: reading the setting (the law of x_1, d, T) and its options, the
number types, the emergence guard, and printing text or JSON."""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import click

__all__ = [
    "FINITE",
    "POSITIVE",
    "Setting",
    "read_setting",
    "setting_options",
    "emit",
    "require_diagonal_reduction",
]


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
class Setting:
    """A law of x_1 as the user gave it: symbolic (for closed forms) plus values."""

    law: object  # symbolic.moments.Distribution, with parameters as symbols
    values: dict  # symbol name -> exact value, T included
    sampling_law: object  # the same law with numbers in place of its parameters
    description: str

    @property
    def T(self) -> int:
        return int(self.values["T"])


def read_setting(x1, d, T, sigma_value, c_value, atoms, moments=None) -> Setting:
    """The setting from the shared options, or a click error naming the option at fault."""
    from symbolic.moments import Atoms, exact_number, full_one, gaussian, iid, sparse

    if T < 3:
        raise click.BadParameter(f"the sequence length T must be >= 3, got {T}", param_hint="--T")
    if x1 not in _BUILT_IN:
        from ..extensions import extension_laws

        extensions = extension_laws()
        if x1 not in extensions:
            known = ", ".join([*_BUILT_IN, *sorted(extensions)])
            raise click.BadParameter(f"unknown law {x1!r}; choose one of {known}", param_hint="--x1")
        if sigma_value is not None or c_value is not None or atoms is not None or moments is not None:
            raise click.BadParameter(f"an extension's law ({x1}) takes only --d", param_hint="--x1")
        law = extensions[x1](5 if d is None else d)
        return Setting(law, {"T": T}, law, f"{x1} (extension)")
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
        return Setting(law, {"T": T}, law, f"i.i.d. coordinates with moments {spec}")
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
        return Setting(law, {"T": T}, law, f"atoms ({len(spec['points'])} points, d = {law.d})")
    d = 5 if d is None else d
    if d < 1:
        raise click.BadParameter(f"the dimension d must be >= 1, got {d}", param_hint="--d")
    if x1 == "gaussian":
        value = exact_number(1.0 if sigma_value is None else sigma_value)
        return Setting(
            gaussian(d), {"sigma": value, "T": T}, gaussian(d, value), f"Gaussian, sigma = {value}"
        )
    if x1 == "sparse":
        value = exact_number(1.0 if c_value is None else c_value)
        return Setting(sparse(d), {"c": value, "T": T}, sparse(d, value), f"sparse, c = {value}")
    return Setting(full_one(d), {"T": T}, full_one(d), "full-one")


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


_SETTING_OPTIONS = [
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


def setting_options(*, sampling: bool = False):
    """The options every command shares. The command receives ``setting`` (a :class:`Setting`,
    read and validated before it runs) in place of the law's options, and ``a0``, ``b0`` and
    ``mask`` as they are. ``sampling=True``: the command draws x_1, so a law given only by its
    moments is refused."""

    def decorate(command):
        @functools.wraps(command)
        def wrapper(*, x1, sigma_value, c_value, atoms, moments, d, T, **rest):
            if sampling and x1 == "iid":
                raise click.BadParameter(
                    "this command samples x_1: give a family or atoms, not moments", param_hint="--x1"
                )
            return command(setting=read_setting(x1, d, T, sigma_value, c_value, atoms, moments), **rest)

        for option in reversed(_SETTING_OPTIONS):
            wrapper = option(wrapper)
        return wrapper

    return decorate


def emit(payload: dict, as_json: bool, lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(payload, indent=2, default=str))
    else:
        click.echo("\n".join(lines))


def require_diagonal_reduction(setting: Setting, mask: bool) -> str:
    """Say why the diagonal model is exact here, or stop with the reason it is not."""
    from symbolic.conditions import emergence_condition

    if mask:
        return "masked: the off-diagonal entries of the prediction blocks are held at 0"
    offending = emergence_condition(setting.law, setting.T)
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
