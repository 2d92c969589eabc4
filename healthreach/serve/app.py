"""The web application: the page, its static files and the JSON API under ``/api/``.

Every request is checked before any work: a body larger than its limit,
text that is not JSON (or holds NaN or Infinity), a change that is not a
mapping, an unknown session or facility id each get a 4xx answer whose JSON
``error`` says what was wrong; an unexpected failure answers 500 with a
one-line message, never a stack trace. Nothing a request holds is used as a
path: the static files are a fixed list read from the package, and an
uploaded scenario's ``study:`` is not read. Each browser tab starts its own
session (``POST /api/sessions``) and names it in the ``X-Session`` header.
With a ``token``, every request except the static files must carry it
(``X-Token`` header, or ``?token=`` in the address).
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from healthreach.errors import HealthreachError
from healthreach.evaluation import Evaluation
from healthreach.messages import Message
from healthreach.serve import payloads
from healthreach.serve.page import page
from healthreach.serve.session import Session, Sessions
from healthreach.serve.text import text

log = logging.getLogger(__name__)

MAX_CHANGE_BYTES = 16 * 1024        # one change as JSON
MAX_SCENARIO_BYTES = 1024 * 1024    # an uploaded scenario file
STATIC = {"serve.js": "text/javascript; charset=utf-8", "serve.css": "text/css; charset=utf-8"}
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")

Suggest = Callable[[Evaluation], list[dict[str, Any]]]  # ranked sites: lon, lat (WGS84 degrees), label


class RequestError(HealthreachError, ValueError):
    """A request the API refuses: ``status`` is its HTTP status, the message says what to do."""

    def __init__(self, message: Message, status: int) -> None:
        super().__init__(message)
        self.status = status


def _refuse_constant(name: str) -> float:
    msg = Message("{name} is not a number JSON allows; give finite numbers", name=name)
    raise ValueError(msg)


def read_json(raw: bytes) -> Any:
    """A request body as JSON (NaN and Infinity refused), or a 400 :class:`RequestError`."""
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise RequestError(Message("the body is not UTF-8 text"), 400) from None
    except ValueError as exc:
        raise RequestError(Message("the body is not valid JSON: {reason}", reason=str(exc)), 400) from None


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body, or a 413 :class:`RequestError` once it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise RequestError(Message("the body is larger than {limit:,} bytes", limit=limit), 413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise RequestError(Message("the body is larger than {limit:,} bytes", limit=limit), 413)
    return bytes(body)


class Server:
    """The state one server keeps: the study's baseline, its page, its sessions, one evaluation at a time."""

    def __init__(self, base: Evaluation, *, lang: str = "zh", token: str | None = None, max_sessions: int = 16,
                 study_ref: str = "demo", suggest: Suggest | None = None) -> None:
        self.base = base
        self.lang = lang
        self.token = token
        self.study_ref = study_ref  # how a saved scenario names its study: a path, or demo
        self.suggest = suggest
        self.sessions = Sessions(base, text("session_name", lang), max_sessions)
        self.grid = payloads.Grid.of(base)
        self.html = page(base, self.grid, lang, suggestions=suggest is not None)
        self.compute = threading.Lock()  # a study's caches are filled lazily: one evaluation at a time
        self.warm_up()

    def warm_up(self) -> None:
        """Add, relocate and close a facility in a session that is not kept: the first change of each kind
        compiles the incremental search and builds the site checks' transformations, paid here, not by a click.
        """
        table = self.base.facilities
        if len(table) < 2:
            return
        session = Session(self.base, "warm-up")
        crs = str(self.base.inputs.crs)
        first, second = (table.iloc[k] for k in (0, 1))
        site = {"x": float(second["x"]), "y": float(second["y"]), "crs": crs}
        for change in ({"add": "warm-up", "name": "warm-up", "type": str(first["type"]), "at": site,
                        "allow_outside": True, "emergency": True},
                       {"relocate": str(first["id"]), "to": site, "allow_outside": True},
                       {"close": str(second["id"])}):
            with contextlib.suppress(HealthreachError):  # a site the study refuses: only this warm-up is lost
                payloads.state(session, session.change(change), self.grid, self.lang)

    def check_token(self, request: Request) -> None:
        """Refuse (401) a request without the server's token, when it has one."""
        if self.token is None:
            return
        given = request.headers.get("x-token") or request.query_params.get("token") or ""
        if not secrets.compare_digest(given.encode(), self.token.encode()):
            raise RequestError(Message("this server needs its token: open the address it printed at start "
                                       "(…/?token=...), or send the X-Token header"), 401)

    def session(self, request: Request) -> Session:
        """The request's session (``X-Session`` header or ``?session=``), or a 4xx."""
        sid = request.headers.get("x-session") or request.query_params.get("session")
        if not sid:
            raise RequestError(Message("no session: start one with POST /api/sessions and send its id in the "
                                       "X-Session header"), 400)
        found = self.sessions.get(sid)
        if found is None:
            raise RequestError(Message("unknown or expired session (the oldest are dropped when too many tabs are "
                                       "open): reload the page, or start one with POST /api/sessions"), 404)
        return found

    def answer(self, session: Session, work: Callable[[], Any]) -> dict[str, Any]:
        """Run ``work`` (a state change of ``session``) and give the page's payload, timed."""
        start = time.perf_counter()
        with self.compute:
            current = work()
            out = payloads.state(session, current, self.grid, self.lang)
        out["ms"] = round(1000 * (time.perf_counter() - start), 1)
        return out


def server_of(request: Request) -> Server:
    """The server a request reaches, its token checked."""
    server: Server = request.app.state.server
    server.check_token(request)
    return server


async def index(request: Request) -> Response:
    """The page."""
    return HTMLResponse(server_of(request).html, headers={"Cache-Control": "no-store"})


async def static(request: Request) -> Response:
    """The page's script and styles: a fixed list of the package's files (no token: nothing of the study)."""
    name = request.path_params["name"]
    if name not in STATIC:  # a fixed list: a request never names a path
        raise RequestError(Message("no static file {name!r}", name=name), 404)
    data = resources.files("healthreach.serve").joinpath(f"static/{name}").read_bytes()
    return Response(data, media_type=STATIC[name])


async def no_icon(_: Request) -> Response:
    """No favicon: an empty answer instead of a 404 in the browser's console."""
    return Response(status_code=204)


async def new_session(request: Request) -> Response:
    """Start a session at the baseline: ``{"session": id}``."""
    return JSONResponse({"session": server_of(request).sessions.new()})


async def figures(request: Request) -> Response:
    """The session's current state: figures, changed cells, changed facilities, changes."""
    server = server_of(request)
    session = server.session(request)
    return JSONResponse(await run_in_threadpool(server.answer, session, lambda: session.now))


async def changes(request: Request) -> Response:
    """One change in the scenario file's format; ``?preview=1``: evaluated, not kept (a marker being dragged)."""
    server = server_of(request)
    session = server.session(request)
    change = read_json(await read_body(request, MAX_CHANGE_BYTES))
    if not isinstance(change, dict):
        raise RequestError(Message("expected one change as a JSON object in the scenario file's format, such as "
                                   '{{"relocate": "THC07", "to": {{"lon": 107.79, "lat": 29.39}}}}'), 400)
    preview = request.query_params.get("preview", "") in ("1", "true")
    return JSONResponse(await run_in_threadpool(server.answer, session,
                                                lambda: session.change(change, preview=preview)))


async def undo(request: Request) -> Response:
    """Back one change."""
    server = server_of(request)
    session = server.session(request)
    return JSONResponse(await run_in_threadpool(server.answer, session, session.undo))


async def redo(request: Request) -> Response:
    """Forward one undone change."""
    server = server_of(request)
    session = server.session(request)
    return JSONResponse(await run_in_threadpool(server.answer, session, session.redo))


async def scenario(request: Request) -> Response:
    """GET: the session as a scenario YAML file; POST (the file's text as the body): load a scenario's changes."""
    server = server_of(request)
    session = server.session(request)
    if request.method == "GET":
        return Response(session.yaml(server.study_ref), media_type="application/yaml; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="scenario.yaml"'})
    raw = await read_body(request, MAX_SCENARIO_BYTES)
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestError(Message("the scenario file is not UTF-8 text; save it as UTF-8"), 400) from None
    return JSONResponse(await run_in_threadpool(server.answer, session, lambda: session.load(content)))


async def export(request: Request) -> Response:
    """The session's current state as the single-file hearing map."""
    server = server_of(request)
    session = server.session(request)
    html = await run_in_threadpool(_export, server, session)
    return HTMLResponse(html, headers={"Content-Disposition": 'attachment; filename="map.html"'})


async def suggestions(request: Request) -> Response:
    """Ranked candidate sites for the session's current state, when the server was given a suggester."""
    server = server_of(request)
    session = server.session(request)
    suggest = server.suggest
    if suggest is None:
        return JSONResponse({"available": False, "sites": []})

    def run() -> list[dict[str, Any]]:
        with server.compute:
            return suggest(session.now.evaluation)
    return JSONResponse({"available": True, "sites": await run_in_threadpool(run)})


ROUTES = [
    Route("/", index),
    Route("/static/{name}", static),
    Route("/favicon.ico", no_icon),
    Route("/api/sessions", new_session, methods=["POST"]),
    Route("/api/figures", figures),
    Route("/api/changes", changes, methods=["POST"]),
    Route("/api/undo", undo, methods=["POST"]),
    Route("/api/redo", redo, methods=["POST"]),
    Route("/api/scenario", scenario, methods=["GET", "POST"]),
    Route("/api/export", export),
    Route("/api/suggestions", suggestions),
]


def create_app(server: Server) -> Starlette:
    """The Starlette application serving ``server``; bound to this computer alone, it answers only requests
    addressed to it by a loopback name (a web page elsewhere cannot reach it through DNS rebinding).
    """
    middleware = [] if server.token else [Middleware(TrustedHostMiddleware, allowed_hosts=list(LOOPBACK))]
    handlers = {RequestError: _refused, HealthreachError: _unprocessable, HTTPException: _http, Exception: _crash}
    app = Starlette(routes=ROUTES, middleware=middleware, exception_handlers=handlers)
    app.state.server = server
    return app


def _export(server: Server, session: Session) -> str:
    """The session's current state as the single-file hearing map (the scenario map; the audit map unchanged)."""
    from healthreach.maps.audit import audit_map
    from healthreach.maps.base import render_html
    from healthreach.maps.scenario import scenario_map

    with server.compute:
        changes = session.now.changes
        if not changes:
            return render_html(audit_map(server.base, lang=server.lang, basemap="none", offline=True))
        after = server.base.apply(session.scenario(changes))
        return render_html(scenario_map(server.base.diff(after), lang=server.lang, basemap="none", offline=True))


def _page_lang(request: Request) -> str:
    """The language of the page the request comes from (the server's ``--lang``)."""
    server = getattr(request.app.state, "server", None)
    return server.lang if server is not None else "zh"


async def _refused(request: Request, exc: Exception) -> Response:
    text = exc.text(_page_lang(request)) if isinstance(exc, HealthreachError) else str(exc)
    return JSONResponse({"error": text}, status_code=getattr(exc, "status", 400))


async def _unprocessable(request: Request, exc: Exception) -> Response:
    text = exc.text(_page_lang(request)) if isinstance(exc, HealthreachError) else str(exc)
    return JSONResponse({"error": text}, status_code=422)


async def _http(_: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 400)
    return JSONResponse({"error": str(getattr(exc, "detail", "")) or "refused"}, status_code=status)


async def _crash(request: Request, exc: Exception) -> Response:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    problem = Message("the server could not answer ({error}); see its log", error=type(exc).__name__)
    return JSONResponse({"error": problem.render(_page_lang(request))}, status_code=500)
