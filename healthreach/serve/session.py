"""One browser tab's what-if session: its changes, their evaluation, undo and redo; and the capped set of sessions.

A session starts at the study's baseline. Each change is evaluated from the
session's current evaluation (:meth:`Evaluation.apply`, incremental), and
merged into the session's list of changes (:mod:`healthreach.serve.changes`),
which is always a valid scenario file. Undo and redo step through the kept
states; a preview (a marker being dragged) is evaluated but not kept, unless
the same change is then committed.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import yaml

from healthreach.errors import ScenarioError, StudyError
from healthreach.evaluation import Evaluation
from healthreach.messages import Message
from healthreach.scenario.checks import check_changes
from healthreach.scenario.schema import ID_KEYS, Scenario, parse_changes, parse_scenario
from healthreach.serve.changes import ChangeDict, as_dict, merge
from healthreach.study import parse_yaml

UNDO_DEPTH = 50  # states kept for undo, per session (each holds its evaluation)
UPLOAD_NAME = "uploaded scenario"


@dataclass(frozen=True)
class State:
    """The session's changes (a valid scenario's, as dicts; empty: the baseline) and their evaluation."""

    changes: tuple[ChangeDict, ...]
    evaluation: Evaluation


class Session:
    """A browser tab's changes against the study's baseline ``base``, with undo and redo.

    ``name`` and ``description`` are written into the saved scenario;
    ``max_road_m`` (metres) is how far from a road a new site may lie.
    """

    def __init__(self, base: Evaluation, name: str, description: str = "", max_road_m: float = 1000.0) -> None:
        self.base = base
        self.name = name
        self.description = description
        self.max_road_m = max_road_m
        self.history: list[State] = [State((), base)]
        self.future: list[State] = []
        self.preview: tuple[ChangeDict, State, State] | None = None  # (change, state it was made from, result)

    @property
    def now(self) -> State:
        """The current state."""
        return self.history[-1]

    def scenario(self, changes: tuple[ChangeDict, ...] | list[ChangeDict]) -> Scenario:
        """Changes (dicts) as a scenario of this session: its name, WGS84 sites by default, its max_road_m."""
        return Scenario(name=self.name, description=self.description, study=None, crs="wgs84",
                        max_road_m=self.max_road_m, changes=parse_changes(list(changes), "changes"))

    def change(self, raw: Any, preview: bool = False) -> State:
        """The state after one change (a mapping in the scenario file's format); kept unless ``preview``.

        Raises :class:`ScenarioError` (nothing kept) when the change is wrong
        on its own (unknown id, site outside the study area or far from the
        roads) or contradicts the session's earlier changes.
        """
        change = parse_changes([raw], Message("scenario"))[0]
        key = as_dict(change)
        if self.preview is not None and self.preview[0] == key and self.preview[1] is self.now:
            state = self.preview[2]
        else:
            merged = merge(list(self.now.changes), change)
            one = Scenario(name=self.name, study=None, crs="wgs84", max_road_m=self.max_road_m, changes=[change])
            evaluation = self.now.evaluation.apply(one)  # the change checked: id, type, site
            if merged:
                inputs = self.base.inputs
                check_changes(self.scenario(merged), self.base.facilities, inputs.profile,
                              inputs.study.facilities.path.name, inputs.study.facilities.type_map)
            state = State(tuple(merged), evaluation if merged else self.base)
        if preview:
            self.preview = (key, self.now, state)
        else:
            self.preview = None
            self.push(state)
        return state

    def push(self, state: State) -> None:
        """Make ``state`` the current one (undo returns to the one before; redo is cleared)."""
        self.history.append(state)
        del self.history[1:-UNDO_DEPTH]  # the baseline stays first
        self.future.clear()

    def undo(self) -> State:
        """Back to the state before the last change (the baseline stays)."""
        if len(self.history) > 1:
            self.future.append(self.history.pop())
        self.preview = None
        return self.now

    def redo(self) -> State:
        """The state the last undo left (none: the current state)."""
        if self.future:
            self.history.append(self.future.pop())
        self.preview = None
        return self.now

    def load(self, text: str) -> State:
        """Replace the changes by those of a scenario file's text (undo returns to the state before).

        The file's ``study:`` is not read (the browser never names a file on
        the server): its changes are checked against the study being served.
        """
        try:
            data = parse_yaml(text, UPLOAD_NAME, ID_KEYS)
        except StudyError as exc:
            raise ScenarioError(*exc.args) from None
        data["study"] = "demo"  # never resolved as a path; the changes apply to the served study
        loaded = parse_scenario(data)
        changes = []
        for change in loaded.changes:
            item = as_dict(change)
            for key in ("at", "to"):
                if key in item and "crs" not in item[key]:
                    item[key]["crs"] = loaded.crs  # the file's default crs, made explicit
            changes.append(item)
        self.name, self.description, self.max_road_m = loaded.name, loaded.description, loaded.max_road_m
        evaluation = self.base.apply(self.scenario(changes))
        state = State(tuple(changes), evaluation)
        self.preview = None
        self.push(state)
        return state

    def yaml(self, study: str) -> str:
        """The session as a scenario file (``study``: how the file names the base study)."""
        data = {"name": self.name, "description": self.description, "study": study, "crs": "wgs84",
                "max_road_m": self.max_road_m, "changes": [dict(c) for c in self.now.changes]}
        if not data["description"]:
            del data["description"]
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=None, width=120)


class Sessions:
    """The sessions of one server, by id: at most ``cap``, the least recently used dropped first."""

    def __init__(self, base: Evaluation, name: str, cap: int = 16) -> None:
        self.base = base
        self.name = name
        self.cap = cap
        self.items: OrderedDict[str, Session] = OrderedDict()
        self.lock = threading.Lock()

    def new(self) -> str:
        """Start a session at the baseline; returns its id."""
        sid = secrets.token_urlsafe(18)
        with self.lock:
            self.items[sid] = Session(self.base, self.name)
            while len(self.items) > self.cap:
                self.items.popitem(last=False)
        return sid

    def get(self, sid: str) -> Session | None:
        """The session ``sid`` (None: unknown, or dropped for newer ones)."""
        with self.lock:
            session = self.items.get(sid)
            if session is not None:
                self.items.move_to_end(sid)
            return session
