"""The ``healthreach`` click group, its console and how errors reach the user (exit status 1)."""

from __future__ import annotations

from typing import IO, Any

import click
from rich.console import Console

from healthreach.errors import HealthreachError
from healthreach.outputs import markup

console = Console(stderr=True)
INPUT_EXIT = 1


class UserError(click.ClickException):
    """A problem with the user's input or files: printed as one message, exit code 1."""

    exit_code = INPUT_EXIT

    def show(self, file: IO[Any] | None = None) -> None:  # noqa: ARG002  click's signature; always the console
        """Print the message on the error console, markup escaped."""
        console.print(f"[red]error:[/] {markup(self.message)}", highlight=False, soft_wrap=True)


def os_message(exc: OSError) -> str:
    """An ``OSError`` as one line: what could not be done, to which path, and why."""
    paths = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p is not None)
    reason = exc.strerror or str(exc) or type(exc).__name__
    hint = ""
    if isinstance(exc, PermissionError):
        hint = "; check the permissions, or choose another --out"
    elif isinstance(exc, (NotADirectoryError, IsADirectoryError, FileExistsError)):
        hint = "; a file and a folder share this name: choose another --out"
    elif getattr(exc, "errno", None) == 28:  # ENOSPC
        hint = "; free some disk space or choose another --out"
    return f"{paths}: {reason}{hint}" if paths else f"{reason}{hint}"


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except HealthreachError as exc:
            raise UserError(str(exc)) from None
        except OSError as exc:
            raise UserError(os_message(exc)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="healthreach")
def cli() -> None:
    """Test district health-plan access targets on the real road network."""
