"""The ``mesacheck`` command line: theorem checks, closed-form limits, finite-sample runs.

One module per command; what they share (reading the setting and its options, printing) is in
``_common``. A command's module is imported only when that command runs (or the help lists
them all), so that a command pays for no other command's imports."""

from __future__ import annotations

import importlib
import json
import sys

import click

from ..verbs._base import InvalidRequest

__all__ = ["main"]

# command name -> its module in this package (the command is the module's function of that name)
_COMMANDS = ("limit", "check", "book", "simulate", "recovery", "conditions", "flow", "sweep")


# click >= 8.2 raises this for a group called without arguments; older versions print the help
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


class _Group(click.Group):
    """The one error handler. A verb's :class:`InvalidRequest` is a usage error (exit 2). The
    library's other refusals of bad input, and the known resource errors
    (files, memory), become one line on stderr, or a JSON object {"error": ...} on stdout under
    --json, with a non-zero exit: 2 for bad usage, 1 for the rest. Anything else is a bug and
    keeps its traceback."""

    def list_commands(self, ctx):
        return sorted(_COMMANDS)

    def get_command(self, ctx, name):
        if name not in _COMMANDS:
            return None
        return getattr(importlib.import_module(f".{name}", __name__), name)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except InvalidRequest as error:  # a verb's refusal of bad usage: exit 2
            raise click.UsageError(str(error)) from error
        except _refusals() as error:
            raise click.ClickException(str(error)) from error
        except MemoryError as error:  # numpy's _ArrayMemoryError included
            raise click.ClickException(
                f"out of memory ({error or 'no detail'}); choose a smaller size"
            ) from error
        except OSError as error:
            where = f" {error.filename}" if error.filename else ""
            raise click.ClickException(f"cannot use{where}: {error.strerror or error}") from error

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        args = sys.argv[1:] if args is None else list(args)
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _NO_ARGS_IS_HELP as error:  # `mesacheck` alone: the help, as click shows it
            error.show()
            sys.exit(error.exit_code)
        except click.ClickException as error:
            _refuse(error.format_message(), error.exit_code, as_json="--json" in args)
        except click.Abort:
            _refuse("aborted", 1, as_json="--json" in args)
        sys.exit(code if isinstance(code, int) else 0)


def _refusals() -> tuple:
    """The library's refusals of bad input; a flow that did not converge among them only if the
    flow module was loaded (else nothing can have raised it, and it is not imported for this)."""
    flow = sys.modules.get("mesacheck.numeric._compiled_flow")
    extra = (flow.FlowDidNotConverge,) if flow is not None else ()
    return (ValueError, NotImplementedError, FloatingPointError, *extra)


def _refuse(message: str, code: int, *, as_json: bool) -> None:
    message = " ".join(message.split())  # one line, whatever the source
    if as_json:
        click.echo(json.dumps({"error": message, "exit_code": code}))
    else:
        click.echo(f"Error: {message}", err=True)
    sys.exit(code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mesacheck")
def main():
    """mesacheck: exact checks of mesa-optimization in linear transformers (Zheng et al., 2024)."""
