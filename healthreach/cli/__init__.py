"""The ``healthreach`` command line: a click group, one module per subcommand.

Commands are thin: they parse options, call the Python API and print. A
:class:`~healthreach.errors.HealthreachError` raised anywhere below becomes
one clear message and exit code 2, never a traceback.
"""

from __future__ import annotations

import click
from rich.console import Console

from healthreach.errors import HealthreachError

console = Console(stderr=True)


class UserError(click.ClickException):
    """A problem with the user's input: printed as one message, exit code 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        console.print(f"[red]error:[/] {self.message}", highlight=False, soft_wrap=True)


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except HealthreachError as exc:
            raise UserError(str(exc)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="healthreach")
def cli() -> None:
    """Test district health-plan access targets on the real road network."""


def main() -> None:
    """Console entry point."""
    cli()


# Each subcommand module adds its command to `cli` when imported.
from healthreach.cli import audit  # noqa: E402,F401
from healthreach.cli import batch  # noqa: E402,F401
from healthreach.cli import scenario  # noqa: E402,F401
