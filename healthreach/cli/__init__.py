"""The ``healthreach`` command line: a click group, one module per subcommand.

Commands are thin: they parse options, call the Python API and print. A
:class:`~healthreach.errors.HealthreachError` raised anywhere below becomes
one clear message and exit status 1, never a traceback.
"""

from __future__ import annotations

# Each subcommand module adds its command to `cli` when imported.
from healthreach.cli import audit, batch, scenario, serve, suggest  # noqa: F401  imported for the commands they register
from healthreach.cli.app import UserError, cli, error_console
from healthreach.memory import prefer_small_pages

__all__ = ["UserError", "cli", "error_console", "main"]


def main() -> None:
    """Console entry point."""
    prefer_small_pages()  # before a command imports numpy
    cli()
