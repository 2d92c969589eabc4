"""The ``healthreach`` click group, its console and how errors reach the user in ``--lang`` (exit 1; usage: 2)."""

from __future__ import annotations

import functools
import re
from typing import IO, TYPE_CHECKING, Any

import click

from healthreach.cli.options import LANG_KEY
from healthreach.errors import HealthreachError
from healthreach.messages import Message
from healthreach.terminal import markup

if TYPE_CHECKING:
    from rich.console import Console

INPUT_EXIT = 1
ERROR_WORD = {"zh": "错误：", "en": "error: "}
ARGS_KEY = "healthreach.args"  # the command line's arguments, kept in ``click.Context.meta``


@functools.cache
def error_console() -> Console:
    """The console on stderr (progress, notes, errors), made when a command first prints: parsing a command
    line or showing help loads no rich.
    """
    from rich.console import Console

    return Console(stderr=True)


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
        error_console().print(f"[red]{ERROR_WORD[self.lang]}[/]{markup(self.message)}", highlight=False, soft_wrap=True)


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


def lang_of_args(args: list[str]) -> str | None:
    """The ``--lang`` given among the command line's ``args`` (read before click parses them), if any."""
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def usage_message(exc: click.UsageError) -> Message:
    """Click's complaint about the command line as a message in both languages.

    Click's own words stay, as a detail, where the exception has no structure to read.
    """
    if isinstance(exc, click.NoSuchOption):
        options = ", ".join(sorted(exc.possibilities or ()))
        return (Message("no option {option} (did you mean {options}?)", option=exc.option_name, options=options)
                if options else Message("no option {option}", option=exc.option_name))
    param = getattr(exc, "param", None)
    if param is not None and isinstance(exc, (click.MissingParameter, click.BadParameter)):
        return parameter_message(exc, param)
    if isinstance(exc, click.BadOptionUsage) and exc.message.endswith("requires an argument."):
        return Message("{option} needs a value", option=exc.option_name)
    unknown = re.fullmatch(r"No such command '(.+)'\.", exc.message)
    if unknown is not None and exc.ctx is not None and isinstance(exc.ctx.command, click.Group):
        return Message("no command '{name}'; the commands are {commands}", name=unknown.group(1),
                       commands=", ".join(exc.ctx.command.list_commands(exc.ctx)))
    return Message("the command line is not right: {detail}", detail=exc.message)


def parameter_message(exc: click.MissingParameter | click.BadParameter, param: click.Parameter) -> Message:
    """A missing or wrong value of ``param``: which one, and the choices when there are some."""
    where = param.get_error_hint(exc.ctx) if exc.ctx is not None else str(param.name)
    if isinstance(exc, click.MissingParameter):
        return Message("{param} is missing", param=where)
    if isinstance(param.type, click.Choice):
        given = re.match(r"(.+?) is not (?:one of )?", exc.message)  # click: "{value!r} is not one of {choices}."
        return Message("{param} takes one of {choices}, not {value}", param=where,
                       choices=", ".join(repr(c) for c in param.type.choices),
                       value=given.group(1) if given else "?")
    return Message("invalid value for {param}: {detail}", param=where, detail=exc.message)


class UsageInLang(click.UsageError):
    """A command-line mistake (exit status 2) shown in ``lang``: the usage line, where to get help, what is wrong."""

    def __init__(self, message: Message, ctx: click.Context | None, lang: str) -> None:
        super().__init__(message.render(lang), ctx)
        self.lang = lang

    def show(self, file: IO[Any] | None = None) -> None:  # noqa: ARG002  click's signature; always the console
        """Print the usage, the help hint and the message on the error console."""
        if self.ctx is not None:
            usage = self.ctx.get_usage()
            help_hint = Message("Try '{command} -h' for help.", command=self.ctx.command_path)
            if self.lang == "zh":
                usage = usage.replace("Usage: ", "用法：", 1)
            error_console().print(markup(f"{usage}\n{help_hint.render(self.lang)}\n"), highlight=False, soft_wrap=True)
        error_console().print(f"[red]{ERROR_WORD[self.lang]}[/]{markup(self.message)}", highlight=False, soft_wrap=True)


class _Group(click.Group):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[ARGS_KEY] = list(args)  # the --lang of a command line click cannot parse
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            lang = lang_of_args(ctx.meta.get(ARGS_KEY, [])) or message_lang(ctx)
            if lang == "en":
                raise  # click's own English
            raise UsageInLang(usage_message(exc), exc.ctx, "zh") from None
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
