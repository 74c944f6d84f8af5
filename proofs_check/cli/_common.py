"""What every command shares: reading the setting (the law of x_1, d, T) and its options, the
number types, output paths checked before any work, and printing text or JSON (never a nan or
inf). The mathematics, the emergence guard included, is in the verbs (``proofs_check/verbs``).

A new assumption that every command takes (a law of W, noise, the trained positions) is one
more entry of ``_SETTING_OPTIONS`` and one more field read in :func:`read_setting`; the commands
receive it inside their ``setting``."""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import click

from ..expressions import read_expression
from ..verbs._base import ScaledLaw

__all__ = [
    "FINITE",
    "POSITIVE",
    "ScaledLaw",
    "read_setting",
    "setting_options",
    "emit",
    "number_text",
    "output_path",
    "progress_wanted",
    "read_expression",
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
EXTREME_DIGITS = 10  # a scale beyond 10^+-10 is computed in normalized units
ATOMS_MAX_BYTES = 1_000_000  # an atoms file or inline JSON larger than this is refused


def read_setting(x1, d, T, sigma_value, c_value, atoms, moments=None, force=False) -> ScaledLaw:
    """The setting from the shared options, or a click error naming the option at fault; a
    law with x_1 = 0 almost surely is refused (nothing to learn)."""
    setting = _read_law(x1, d, T, sigma_value, c_value, atoms, moments, force)
    law = setting.sampling_law
    # only atoms and moments can describe x_1 = 0 (the families have positive scales)
    zero = (law.name == "atoms" and not any(v for point in law.key[0] for v in point)) or (
        law.name == "iid" and law.key[1] == 0
    )
    if zero:
        raise click.UsageError(
            "x_1 = 0 almost surely: the loss is constant, every point is stationary and the flow never "
            "moves, so there is no limit of a b to report; give a law with E|x_1|^2 > 0"
        )
    return setting


def _power_of_ten(value) -> int:
    """The exponent k of 10^k nearest a positive exact value, 0 unless it is extreme."""
    import sympy as sp

    k = int(sp.floor(sp.log(value, 10).evalf(30) + sp.Rational(1, 2)))
    return k if abs(k) > EXTREME_DIGITS else 0


def _read_law(x1, d, T, sigma_value, c_value, atoms, moments, force) -> ScaledLaw:
    import sympy as sp

    from mesacheck.symbolic.moments import Atoms, exact_number, full_one, gaussian, iid, sparse

    from ..costs import atoms_cost, guard

    if T < 3:
        raise click.BadParameter(f"the sequence length T must be >= 3, got {T}", param_hint="--T")
    if d is not None and d < 1:
        raise click.BadParameter(f"the dimension d must be >= 1, got {d}", param_hint="--d")
    if x1 not in _BUILT_IN:
        from ..extensions import extension_laws

        extensions = extension_laws()
        if x1 not in extensions:
            known = ", ".join([*_BUILT_IN, *sorted(extensions)])
            raise click.BadParameter(f"unknown law {x1!r}; choose one of {known}", param_hint="--x1")
        if sigma_value is not None or c_value is not None or atoms is not None or moments is not None:
            raise click.BadParameter(f"an extension's law ({x1}) takes only --d", param_hint="--x1")
        law = extensions[x1](5 if d is None else d)
        return ScaledLaw(law, {"T": T}, law, f"{x1} (extension)")
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
        spec = _load_json(moments, "--moments", read_files=False)
        try:
            if not isinstance(spec, dict):
                raise ValueError("expected a JSON object")
            _check_numbers(spec.values(), "--moments")
            law = iid(5 if d is None else d, spec)
            m2 = law.key[1]
            digits = _power_of_ten(sp.sqrt(m2)) if m2 > 0 else 0
            if digits:
                law = iid(law.d, {n: law.key[n - 1] / sp.Integer(10) ** (n * digits) for n in range(1, 7)})
        except ValueError as error:
            raise click.BadParameter(_one_line(error), param_hint="--moments") from error
        return ScaledLaw(law, {"T": T}, law, f"i.i.d. coordinates with moments {spec}", digits)
    if x1 == "atoms":
        if atoms is None:
            raise click.BadParameter("give the atoms as JSON or a JSON file", param_hint="--atoms")
        spec = _read_atoms(atoms)
        width = max((len(p) for p in spec["points"]), default=0)
        guard(atoms_cost(len(spec["points"]), width), force)
        try:
            law = Atoms(spec["points"], spec["weights"], name="atoms")
            largest = max(abs(v) for point in law.key[0] for v in point)
            digits = _power_of_ten(largest) if largest else 0
            if digits:
                scaled = [[v / sp.Integer(10) ** digits for v in point] for point in law.key[0]]
                law = Atoms(scaled, law.key[1], name="atoms")
        except ValueError as error:
            raise click.BadParameter(_one_line(error), param_hint="--atoms") from error
        if d is not None and d != law.d:
            raise click.BadParameter(f"--d {d} but the atoms have length {law.d}", param_hint="--d")
        return ScaledLaw(law, {"T": T}, law, f"atoms ({len(spec['points'])} points, d = {law.d})", digits)
    d = 5 if d is None else d
    if x1 in ("gaussian", "sparse"):
        family, name, given = (gaussian, "sigma", sigma_value) if x1 == "gaussian" else (sparse, "c", c_value)
        value = exact_number(1.0 if given is None else given)
        digits = _power_of_ten(value)
        unit = value / sp.Integer(10) ** digits
        description = f"{'Gaussian' if x1 == 'gaussian' else 'sparse'}, {name} = {given if digits else value}"
        return ScaledLaw(family(d), {name: unit, "T": T}, family(d, unit), description, digits)
    return ScaledLaw(full_one(d), {"T": T}, full_one(d), "full-one")


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows; write finite numbers")


def _load_json(text: str, hint: str, *, read_files: bool = True):
    """JSON given inline or (``read_files``) as a file of at most ``ATOMS_MAX_BYTES``; NaN and
    Infinity are refused."""
    if len(text) > ATOMS_MAX_BYTES:
        raise click.BadParameter(f"the JSON is longer than {ATOMS_MAX_BYTES:,} characters", param_hint=hint)
    raw = text
    if read_files and not text.lstrip().startswith(("{", "[")):
        source = Path(text)
        try:
            if not source.is_file():
                reason = "is not a regular file" if source.exists() else "no such file"
                raise click.BadParameter(f"not JSON, and {text!r}: {reason}", param_hint=hint)
            with source.open("rb") as handle:
                data = handle.read(ATOMS_MAX_BYTES + 1)
        except OSError as error:
            raise click.BadParameter(f"cannot read {text!r}: {error.strerror}", param_hint=hint) from error
        if len(data) > ATOMS_MAX_BYTES:
            raise click.BadParameter(f"{text!r} is larger than {ATOMS_MAX_BYTES:,} bytes", param_hint=hint)
        raw = data.decode("utf-8", errors="replace")
    try:
        # decimals stay text, read exactly later: 3e-600 is not 0, and 1e400 is not inf
        return json.loads(raw, parse_constant=_reject_constant, parse_float=str)
    except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
        raise click.BadParameter(f"not JSON: {_one_line(error)}", param_hint=hint) from error


def _read_atoms(text: str) -> dict:
    spec = _load_json(text, "--atoms")
    if isinstance(spec, list):
        spec = {"points": spec, "weights": [f"1/{len(spec)}"] * len(spec)}
    if not isinstance(spec, dict) or set(spec) != {"points", "weights"}:
        raise click.BadParameter('expected {"points": [[...], ...], "weights": [...]}', param_hint="--atoms")
    for key in ("points", "weights"):
        if not isinstance(spec[key], list):
            raise click.BadParameter(f"{key} must be a list", param_hint="--atoms")
    if any(not isinstance(p, list) for p in spec["points"]):
        raise click.BadParameter("each atom must be a list of d numbers", param_hint="--atoms")
    entries = [*spec["weights"], *(v for p in spec["points"] for v in p)]
    _check_numbers(entries, "--atoms")
    return spec


def _check_numbers(entries, hint: str) -> None:
    """Every entry a JSON number, or a short string that is plainly a number such as "1/3"."""
    from mesacheck.symbolic.moments import is_number_text

    for v in entries:
        if isinstance(v, bool) or not isinstance(v, int | float | str):
            raise click.BadParameter(f'expected numbers or strings such as "1/3", got {v!r}', param_hint=hint)
        if isinstance(v, str) and not is_number_text(v):
            raise click.BadParameter(
                f'{v[:40]!r} is not a finite number (write e.g. 2, 0.5, "1/3" or "1+2*I")', param_hint=hint
            )


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
    click.option("--force", is_flag=True, help="Run even past the cost guard's time and memory limits."),
]


def setting_options(*, sampling: bool = False):
    """The options every command shares. The command receives ``setting`` (a :class:`ScaledLaw`,
    read and validated before it runs) in place of the law's options, and ``a0``, ``b0``,
    ``mask`` and ``force`` as they are. ``sampling=True``: the command draws x_1, so a law given only by its
    moments is refused."""

    def decorate(command):
        @functools.wraps(command)
        def wrapper(*, x1, sigma_value, c_value, atoms, moments, d, T, force, **rest):
            if sampling and x1 == "iid":
                raise click.BadParameter(
                    "this command samples x_1: give a family or atoms, not moments", param_hint="--x1"
                )
            setting = read_setting(x1, d, T, sigma_value, c_value, atoms, moments, force)
            return command(setting=setting, force=force, **rest)

        for option in reversed(_SETTING_OPTIONS):
            wrapper = option(wrapper)
        return wrapper

    return decorate


def emit(payload: dict, as_json: bool, lines: list[str]) -> None:
    """Print the answer; a non-finite number anywhere in it is an error, never printed."""
    where = _non_finite(payload)
    if where:
        raise click.ClickException(
            f"the computation gave a non-finite value for {where}; no answer is printed "
            "(please report this input)"
        )
    if as_json:
        click.echo(json.dumps(payload, indent=2, default=str))
    else:
        click.echo("\n".join(lines))


def number_text(value, digits: int) -> str:
    """A number as printed: a float to ``digits`` significant digits; exact strings (values a
    double cannot hold, :meth:`ScaledLaw.in_user_units`) as they are."""
    if value is None:
        return "-"
    return value if isinstance(value, str) else f"{value:.{digits}g}"


def _non_finite(value, path: str = "") -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return path or "the answer"
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _non_finite(item, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def progress_wanted(as_json: bool) -> bool:
    """Progress bars go to stderr, on a terminal, and never under --json."""
    import sys

    return not as_json and sys.stderr.isatty()


def output_path(*suffixes: str):
    """A click callback for an output file, checked before any work: its suffix, and that it
    can be created (the probe file is removed again)."""

    def check(ctx, param, value):
        if value is None:
            return None
        path = Path(value)
        if suffixes and path.suffix not in suffixes:
            raise click.BadParameter(f"the file must end in {' or '.join(suffixes)}", ctx, param)
        if path.is_dir():
            raise click.BadParameter(f"{value!r} is a folder", ctx, param)
        existed = path.exists()
        try:
            with path.open("a"):
                pass
            if not existed:
                path.unlink()
        except OSError as error:
            raise click.BadParameter(f"cannot write {value!r}: {error.strerror}", ctx, param) from error
        return value

    return check
