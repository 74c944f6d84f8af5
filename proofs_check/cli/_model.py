"""The options that set the model (issue 23): ``--model merged|separate``, ``--heads H`` and
``--key-dim K``, read the same way by every command into a
:class:`mesacheck.symbolic.parameterization.Model`. A command that does not take a model yet
refuses any model but the paper's in one line naming the commands that do; none ignores them."""

from __future__ import annotations

import functools

import click

__all__ = ["model_options"]

_MODEL_OPTIONS = [
    click.option(
        "--model",
        "parameterization",
        type=click.Choice(["merged", "separate"]),
        default=None,
        help="The attention's parameters: merged W^KQ (the paper's) or separate keys and queries, "
        "W^KQ = W_K^T W_Q.",
    ),
    click.option(
        "--heads", type=str, default=None, help="Number of heads H (1 to 8; the prediction sums them)."
    ),
    click.option(
        "--key-dim",
        "key_dim",
        type=str,
        default=None,
        help="Rows of W_K and W_Q with --model separate (1 to 4d; default 2d, full rank).",
    ),
]


def _integer(text, option: str):
    if text is None:
        return None
    value = text.strip()
    if not (value.isascii() and value.lstrip("+-").isdigit()) or len(value) > 6:
        raise click.BadParameter(f"must be a whole number, got {text!r}", param_hint=option)
    return int(value)


def model_options(*, supported: bool):
    """Add the model options; a ``supported`` command receives ``model``: a Model, or None for
    the paper's. Elsewhere anything but the paper's model is refused (exit 2), and the command
    receives nothing."""

    def decorate(command):
        @functools.wraps(command)
        def wrapper(*, parameterization, heads, key_dim, **rest):
            from mesacheck.symbolic.parameterization import InvalidModel, Model

            from ..verbs._base import InvalidRequest, refuse_model

            heads_value, key_value = _integer(heads, "--heads"), _integer(key_dim, "--key-dim")
            if parameterization is None and heads_value is None and key_value is None:
                return command(model=None, **rest) if supported else command(**rest)
            try:
                model = Model(
                    parameterization or "merged",
                    heads=1 if heads_value is None else heads_value,
                    key_dim=key_value,
                )
            except InvalidModel as error:
                hint = "--key-dim" if key_value is not None and "key" in str(error) else "--heads"
                hint = "--model" if "parameterization" in str(error) else hint
                raise click.BadParameter(str(error), param_hint=hint) from None
            if not supported:
                try:
                    refuse_model(model, command.__name__)
                except InvalidRequest as error:
                    raise click.UsageError(str(error)) from None
                return command(**rest)  # the paper's model, named explicitly
            return command(model=model, **rest)

        for option in reversed(_MODEL_OPTIONS):
            wrapper = option(wrapper)
        return wrapper

    return decorate
