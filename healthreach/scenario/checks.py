"""Checks of a scenario against its study: ids (with suggestions), types, contradictions, ambulance counts.

Every problem is collected and reported in one :class:`~healthreach.errors.ScenarioError`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from healthreach.errors import ScenarioError
from healthreach.inputs import StudyInputs
from healthreach.load.facilities import has_ambulance_counts
from healthreach.messages import Message, message_lines
from healthreach.profile import Profile
from healthreach.scenario.schema import Add, Change, Close, Expand, Relocate, Scenario, Upgrade
from healthreach.scenario.sites import Projections, Site, locate
from healthreach.vocab import facility_type


def _known_types(profile: Profile) -> list[str]:
    return sorted({t for group in profile.groups.values() for t in group.types})


def _suggest(ref: str, ids: list[str], names: list[str]) -> Message:
    """' did you mean A (name), B (name)?' from ids and names close to ``ref``."""
    by_name = dict(zip(names, ids, strict=True))
    if ref in by_name:
        return Message(" '{ref}' is the name of {id}: refer to facilities by id", ref=ref, id=by_name[ref])
    def plain(text: str) -> str:  # 'thc1' and 'THC01' are the same id to a reader
        return re.sub(r"\d+", lambda m: str(int(m.group())), text.strip().upper())

    close = [i for i in ids if plain(i) == plain(ref)]
    close += [i for i in difflib.get_close_matches(ref, ids, n=4, cutoff=0.5) if i not in close]
    close += [by_name[n] for n in difflib.get_close_matches(ref, names, n=3, cutoff=0.5) if by_name[n] not in close]
    name_of = dict(zip(ids, names, strict=True))
    if close:
        return Message(" did you mean {ids}?", ids=", ".join(f"{c} ({name_of[c]})" for c in close[:4]))
    sample = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
    return Message(" ids look like {sample} ({n} facilities)", sample=sample, n=len(ids))


def _type_problem(value: str, profile: Profile, type_map: dict[str, str] | None = None) -> Message | None:
    """None when ``value`` (a type id, a Chinese or English name, or a ``type_map`` name) is one of the
    profile's group types; else what is wrong.
    """
    known = _known_types(profile)
    if facility_type(value, type_map) in known:
        return None
    close = difflib.get_close_matches(value, known, n=2, cutoff=0.5)
    hint = Message("did you mean {types}? ", types=" or ".join(repr(c) for c in close)) if close else ""
    return Message("type '{value}' is not a facility type of profile '{profile}'; {hint}known types: {known} (or "
                   "their Chinese names, e.g. 乡镇卫生院, 社区卫生服务中心, 村卫生室; see docs/study-file.md)",
                   value=value, profile=profile.name, hint=hint, known=", ".join(known))


def check_changes(scenario: Scenario, facilities: pd.DataFrame | Mapping[str, np.ndarray], profile: Profile,
                  table: str = "the facility table", type_map: dict[str, str] | None = None) -> None:
    """Check ids, types and contradictions (no geometry needed); raise one ScenarioError listing every problem.

    ``facilities`` (a table, or its columns as arrays) needs the study's ``id``, ``name`` and ``type`` columns;
    ``table`` names the facility file in messages; ``type_map`` is the
    study's ``facilities.type_map`` (types may also be Chinese names).
    """
    checker = _ChangeChecker(scenario, facilities, profile, table, type_map)
    for i, change in enumerate(scenario.changes):
        checker.check(i, change)
    if checker.problems:
        raise ScenarioError(message_lines(checker.problems))


class _ChangeChecker:
    """The state of :func:`check_changes` as it reads the changes in order: which facilities exist, which
    were added, closed, relocated or merged into by which change, and the values set so far.
    """

    def __init__(self, scenario: Scenario, facilities: pd.DataFrame | Mapping[str, np.ndarray], profile: Profile,
                 table: str,
                 type_map: dict[str, str] | None) -> None:
        self.scenario, self.profile, self.table, self.type_map = scenario, profile, table, type_map
        self.facilities = facilities
        self.ids = [str(i) for i in np.asarray(facilities["id"]).tolist()]
        self.known: dict[str, int | None] = dict.fromkeys(self.ids)  # id -> change that added it (None: baseline)
        self.closed: dict[str, int] = {}
        self.relocated: dict[str, int] = {}
        self.merged_into: dict[str, int] = {}  # facility id -> close change merging into it
        self.set_by: dict[tuple[str, str], tuple[int, Any]] = {}
        self.problems: list[Message] = []

    def say(self, i: int, problem: Message) -> None:
        """Note a problem of change ``i``."""
        self.problems.append(Message("{where}: {change}: {problem}", where=self.scenario.where,
                                     change=self.scenario.label(i), problem=problem))

    def exists(self, i: int, ref: str, role: str = "") -> bool:
        """Whether facility ``ref`` exists before change ``i``; if not, say so with suggestions."""
        if ref in self.known:
            return True
        all_ids = self.ids + [k for k, v in self.known.items() if v is not None]
        names = [str(n) for n in np.asarray(self.facilities["name"]).tolist()]
        all_names = names + [c.name for c in self.scenario.changes[:i] if isinstance(c, Add)]
        self.say(i, Message("no facility with id '{ref}'{role} in {table};{suggestion}", ref=ref, role=role,
                            table=self.table, suggestion=_suggest(ref, all_ids, all_names)))
        return False

    def settle(self, i: int, ref: str, attr: str, value: Any) -> None:
        """Record that change ``i`` sets ``attr`` of ``ref``; an earlier change setting another value is a
        contradiction.
        """
        if value is None:
            return
        earlier = self.set_by.get((ref, attr))
        if earlier and earlier[1] != value:
            self.say(i, Message("sets {attr} of {ref} to {value!r}, but {earlier} set it to {before!r}; keep one value",
                                attr=attr, ref=ref, value=value, earlier=self.scenario.label(earlier[0]),
                                before=earlier[1]))
        self.set_by[(ref, attr)] = (i, value)

    def check_type(self, i: int, value: str) -> None:
        """Say so when ``value`` is not a facility type of the profile."""
        problem = _type_problem(value, self.profile, self.type_map)
        if problem:
            self.say(i, problem)

    def check(self, i: int, change: Change) -> None:
        """Check change ``i`` against the facilities as the changes before it leave them."""
        ref = change.ref
        if isinstance(change, Add):
            self.add(i, change)
            return
        if not self.exists(i, ref):
            return
        if ref in self.closed:
            self.say(i, Message("{ref} is closed by {closing} and cannot be changed afterwards; drop one of the two "
                                "changes or reorder them", ref=ref, closing=self.scenario.label(self.closed[ref])))
            return
        if isinstance(change, Relocate):
            self.relocate(i, change)
        elif isinstance(change, Close):
            self.close(i, change)
        elif isinstance(change, Upgrade):
            if change.type is not None:
                self.check_type(i, change.type)
            self.settle(i, ref, "type", None if change.type is None else facility_type(change.type, self.type_map))
            self.settle(i, ref, "emergency", change.emergency)
            self.settle(i, ref, "name", change.name)
        elif isinstance(change, Expand):
            self.settle(i, ref, "beds", change.beds)
            self.settle(i, ref, "ambulances", change.ambulances)

    def add(self, i: int, change: Add) -> None:
        """A new facility needs an id of its own and a known type."""
        ref = change.ref
        if ref in self.known:
            origin = self.known[ref]
            what = (Message("already exists in {table}", table=self.table) if origin is None
                    else Message("is already added by {adding}", adding=self.scenario.label(origin)))
            self.say(i, Message("id '{ref}' {what}; give the new facility its own id", ref=ref, what=what))
        else:
            self.known[ref] = i
        self.check_type(i, change.type)

    def relocate(self, i: int, change: Relocate) -> None:
        """A baseline facility moves once; its new numbers must agree with other changes."""
        ref = change.ref
        origin = self.known[ref]
        if origin is not None:
            self.say(i, Message("{ref} is added by {adding}; give the final site in that add instead of relocating "
                                "it", ref=ref, adding=self.scenario.label(origin)))
        elif ref in self.relocated:
            self.say(i, Message("relocates {ref} a second time ({moving} moves it already); keep one relocation with "
                                "the final site", ref=ref, moving=self.scenario.label(self.relocated[ref])))
        self.relocated[ref] = i
        self.settle(i, ref, "beds", change.beds)
        self.settle(i, ref, "ambulances", change.ambulances)
        self.settle(i, ref, "name", change.name)

    def close(self, i: int, change: Close) -> None:
        """A baseline facility closes, merging (optionally) into another that stays open."""
        ref, into = change.ref, change.into
        origin = self.known[ref]
        if origin is not None:
            self.say(i, Message("closes {ref}, which {adding} adds; drop both changes", ref=ref,
                                adding=self.scenario.label(origin)))
        if ref in self.merged_into:
            self.say(i, Message("closes {ref}, into which {merging} merges another facility; merge into a facility "
                                "that stays open", ref=ref, merging=self.scenario.label(self.merged_into[ref])))
        if into is not None:
            if into == ref:
                self.say(i, Message("{ref} cannot merge into itself", ref=ref))
            elif self.exists(i, into, " (into)"):
                if into in self.closed:
                    self.say(i, Message("merges into {into}, which {closing} closes", into=into,
                                        closing=self.scenario.label(self.closed[into])))
                self.merged_into[into] = i
        self.closed[ref] = i


def check(scenario: Scenario, inputs: StudyInputs, facilities: pd.DataFrame | Mapping[str, np.ndarray] | None = None,
          projections: Projections | None = None) -> dict[int, Site]:
    """Every check of the scenario against the study and the facility table it changes (default: the
    study's own; a table or its columns as arrays); returns the located sites (``projections``: see
    :func:`~healthreach.scenario.sites.locate`).
    """
    facilities = inputs.facilities if facilities is None else facilities
    check_changes(scenario, facilities, inputs.profile, inputs.study.facilities.path.name,
                  inputs.study.facilities.type_map)
    if not has_ambulance_counts(inputs.study.facilities):
        for i, change in enumerate(scenario.changes):
            if getattr(change, "ambulances", None):
                msg = Message("{where}: {change}: sets ambulances, but the study's facility list gives no ambulance "
                              "counts (facilities.ambulances_column), so the change would count for nothing; give the "
                              "study its ambulance counts", where=scenario.where, change=scenario.label(i))
                raise ScenarioError(msg)
    return locate(scenario, inputs, facilities, projections)
