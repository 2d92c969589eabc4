"""The ``healthreach`` click group, its console and how errors reach the user (exit status 1)."""

from __future__ import annotations

from typing import IO, Any

import click
from rich.console import Console

from healthreach.cli.options import LANG_KEY
from healthreach.errors import HealthreachError
from healthreach.messages import Message
from healthreach.outputs import markup

console = Console(stderr=True)
INPUT_EXIT = 1
ERROR_WORD = {"zh": "错误：", "en": "error: "}


def message_lang(ctx: click.Context | None = None) -> str:
    """The ``--lang`` of the command being run (``zh`` until its options are read)."""
    ctx = ctx or click.get_current_context(silent=True)
    return ctx.meta.get(LANG_KEY, "zh") if ctx is not None else "zh"


class UserError(click.ClickException):
    """A problem with the user's input or files: printed as one message, exit code 1."""

    exit_code = INPUT_EXIT

    def __init__(self, message: str, lang: str = "zh") -> None:
        super().__init__(message)
        self.lang = lang

    def show(self, file: IO[Any] | None = None) -> None:  # noqa: ARG002  click's signature; always the console
        """Print the message on the error console, markup escaped."""
        console.print(f"[red]{ERROR_WORD[self.lang]}[/]{markup(self.message)}", highlight=False, soft_wrap=True)


def os_message(exc: OSError, lang: str = "en") -> str:
    """An ``OSError`` as one line in ``lang``: what could not be done, to which path, and why."""
    paths = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p is not None)
    reason = exc.strerror or str(exc) or type(exc).__name__
    hint = ""
    if isinstance(exc, PermissionError):
        hint = Message("; check the permissions, or choose another --out").render(lang)
    elif isinstance(exc, (NotADirectoryError, IsADirectoryError, FileExistsError)):
        hint = Message("; a file and a folder share this name: choose another --out").render(lang)
    elif getattr(exc, "errno", None) == 28:  # ENOSPC
        hint = Message("; free some disk space or choose another --out").render(lang)
    return f"{paths}: {reason}{hint}" if paths else f"{reason}{hint}"


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except HealthreachError as exc:
            lang = message_lang(ctx)
            raise UserError(exc.text(lang), lang) from None
        except OSError as exc:
            lang = message_lang(ctx)
            raise UserError(os_message(exc, lang), lang) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="healthreach")
def cli() -> None:
    """Test district health-plan access targets on the real road network."""
