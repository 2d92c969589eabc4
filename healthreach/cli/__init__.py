"""The ``healthreach`` command line: a click group, one module per subcommand.

Commands are thin: they parse options, call the Python API and print.
"""

from __future__ import annotations

import sys

import click
from rich.console import Console

from healthreach.errors import HealthreachError

console = Console(stderr=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="healthreach")
def cli() -> None:
    """Test district health-plan access targets on the real road network."""


def main() -> None:
    """Entry point: user errors print one clear message and exit 2, never a traceback."""
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        console.print("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except HealthreachError as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False)
        sys.exit(2)


# Each subcommand module adds its command to `cli` when imported.
from healthreach.cli import audit  # noqa: E402,F401
