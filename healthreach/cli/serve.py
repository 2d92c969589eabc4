"""``healthreach serve``: the what-if page on one study, for a meeting or a hearing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from healthreach.cli.app import UserError, cli, error_console
from healthreach.cli.options import cache_option, page_lang_option
from healthreach.messages import Message
from healthreach.terminal import markup

if TYPE_CHECKING:
    import socket

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def bind_port(host: str, port: int, lang: str = "zh") -> socket.socket:
    """The socket bound to ``port`` on ``host``, taken before any work so that nothing else takes it; a port
    that cannot be bound (in use, or not allowed) is refused with a message in ``lang``.
    """
    import errno  # loaded when the server starts, not to parse a command line
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        try:
            sock.bind((host, port))
        except socket.gaierror:
            msg = Message("--host {host}: not an address of this computer; give its IP address, or 0.0.0.0 for all",
                          host=host)
            raise UserError(msg.render(lang), lang) from None
        except OSError as exc:
            reason = (Message("is in use") if exc.errno == errno.EADDRINUSE
                      else Message("cannot be used ({reason})", reason=exc.strerror))
            msg = Message("port {port} on {host} {reason}: choose another --port", port=port, host=host, reason=reason)
            raise UserError(msg.render(lang), lang) from None
    except UserError:
        sock.close()
        raise
    return sock


@cli.command()
@click.argument("study", required=False, type=click.Path(path_type=Path))
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Any other than this computer's own (127.0.0.1, localhost, ::1) "
                   "needs the token printed at start.")
@page_lang_option
@click.option("--max-sessions", type=click.IntRange(1, 1000), default=16, show_default=True,
              help="Browser tabs kept at once, each with its own changes; the least recently used is dropped.")
@click.option("--suggest", "suggest_type", default=None, metavar="TYPE",
              help="Show the best new sites of this facility type as a layer, each addable with one click "
                   "(as `healthreach suggest --type TYPE`, for today's facilities).")
@click.option("--suggest-count", type=click.IntRange(1, 50), default=5, show_default=True,
              help="How many suggested sites --suggest shows.")
@cache_option
def serve(study: Path | None, port: int, host: str, lang: str, max_sessions: int,
          suggest_type: str | None, suggest_count: int, cache: Path | None) -> None:
    """Open a what-if page on STUDY (default: the bundled demo county): drag, add, close facilities, watch the
    figures change, save the changes as a scenario file.
    """
    import secrets

    import uvicorn

    from healthreach.api import open_study
    from healthreach.cli.audit import progress_step
    from healthreach.serve.app import Server, create_app
    from healthreach.serve.suggestions import BaselineSuggestions

    sock = bind_port(host, port, lang)
    token = None if host in LOOPBACK_HOSTS else secrets.token_urlsafe(18)
    with error_console().status(Message("reading the study").render(lang)) as status:
        opened = open_study(study, cache=cache, progress=progress_step(status, lang))
        status.update(Message("computing the baseline").render(lang))
        base = opened.baseline()
        status.update(Message("drawing the page").render(lang))
        demo = study is None or str(study).strip().lower() == "demo"
        source = opened.inputs.study.source
        ref = "demo" if demo or source is None else str(Path(source).resolve())
        suggester = None if suggest_type is None else BaselineSuggestions(opened, suggest_type, suggest_count)
        server = Server(base, lang=lang, token=token, max_sessions=max_sessions, study_ref=ref, suggest=suggester)
    sock.listen(128)  # from here a browser's connection waits for the server instead of being refused
    shown = f"[{host}]" if ":" in host else host
    address = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    console = error_console()
    console.print(Message("{study}: open {address} in a browser (Ctrl+C stops the server)",
                          study=f"[bold]{markup(opened.inputs.study.name)}[/]",
                          address=f"[bold]{markup(address)}[/]").render(lang), soft_wrap=True)
    if token:
        console.print(Message("anyone with this address (its token) can change this session's scenario; share it "
                              "only with the meeting").render(lang), soft_wrap=True)
    uvicorn.Server(uvicorn.Config(create_app(server), log_level="warning")).run(sockets=[sock])
