"""The ``mesacheck`` command line: theorem checks, closed-form limits, finite-sample runs.

One module per command; what they share (reading the setting and its options, printing) is in
``_common``."""

from __future__ import annotations

import click

from . import book, check, conditions, flow, limit, recovery, simulate

__all__ = ["main"]


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


for _command in (
    limit.limit,
    check.check,
    book.book,
    simulate.simulate,
    recovery.recovery,
    conditions.conditions,
    flow.flow,
):
    main.add_command(_command)
