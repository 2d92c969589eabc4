"""Checks of a scenario against its study: ids (with suggestions), types, contradictions, ambulance counts.

Every problem is collected and reported in one :class:`~healthreach.errors.ScenarioError`.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

import pandas as pd

from healthreach.errors import ScenarioError
from healthreach.inputs import StudyInputs
from healthreach.load.facilities import has_ambulance_counts
from healthreach.profile import Profile
from healthreach.scenario.schema import Add, Close, Expand, Relocate, Scenario, Upgrade
from healthreach.scenario.sites import Projections, Site, locate
from healthreach.vocab import facility_type


def _known_types(profile: Profile) -> list[str]:
    return sorted({t for group in profile.groups.values() for t in group.types})


def _suggest(ref: str, ids: list[str], names: list[str]) -> str:
    """' did you mean A (name), B (name)?' from ids and names close to ``ref``."""
    by_name = dict(zip(names, ids))
    if ref in by_name:
        return f" '{ref}' is the name of {by_name[ref]}: refer to facilities by id"
    def plain(text: str) -> str:  # 'thc1' and 'THC01' are the same id to a reader
        return re.sub(r"\d+", lambda m: str(int(m.group())), text.strip().upper())

    close = [i for i in ids if plain(i) == plain(ref)]
    close += [i for i in difflib.get_close_matches(ref, ids, n=4, cutoff=0.5) if i not in close]
    close += [by_name[n] for n in difflib.get_close_matches(ref, names, n=3, cutoff=0.5) if by_name[n] not in close]
    name_of = dict(zip(ids, names))
    if close:
        return " did you mean " + ", ".join(f"{c} ({name_of[c]})" for c in close[:4]) + "?"
    sample = ", ".join(ids[:5])
    return f" ids look like {sample}{', ...' if len(ids) > 5 else ''} ({len(ids)} facilities)"


def _type_problem(kind: str, value: str, profile: Profile, type_map: dict[str, str] | None = None) -> str | None:
    """None when ``value`` (a type id, a Chinese or English name, or a ``type_map`` name) is one of the
    profile's group types; else what is wrong."""
    known = _known_types(profile)
    if facility_type(value, type_map) in known:
        return None
    close = difflib.get_close_matches(value, known, n=2, cutoff=0.5)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    return (f"type '{value}' is not a facility type of profile '{profile.name}'; {hint}"
            f"known types: {', '.join(known)} (or their Chinese names, e.g. 乡镇卫生院, 社区卫生服务中心, 村卫生室; "
            f"see docs/study-file.md)")


def check_changes(scenario: Scenario, facilities: pd.DataFrame, profile: Profile,
                  table: str = "the facility table", type_map: dict[str, str] | None = None) -> None:
    """Check ids, types and contradictions (no geometry needed); raise one ScenarioError listing every problem.

    ``facilities`` needs the study's ``id``, ``name`` and ``type`` columns;
    ``table`` names the facility file in messages; ``type_map`` is the
    study's ``facilities.type_map`` (types may also be Chinese names).
    """
    ids = facilities["id"].astype(str).tolist()
    names = facilities["name"].astype(str).tolist()
    known: dict[str, int | None] = dict.fromkeys(ids)   # id -> change that added it (None: baseline)
    closed: dict[str, int] = {}
    relocated: dict[str, int] = {}
    merged_into: dict[str, int] = {}                      # facility id -> close change merging into it
    set_by: dict[tuple[str, str], tuple[int, Any]] = {}
    problems: list[str] = []

    def say(i: int, text: str) -> None:
        problems.append(f"{scenario.where}: {scenario.label(i)}: {text}")

    def exists(i: int, ref: str, role: str = "") -> bool:
        if ref in known:
            return True
        all_ids = ids + [k for k, v in known.items() if v is not None]
        all_names = names + [c.name for c in scenario.changes[:i] if isinstance(c, Add)]
        say(i, f"no facility with id '{ref}'{role} in {table};" + _suggest(ref, all_ids, all_names))
        return False

    def settle(i: int, ref: str, attr: str, value: Any) -> None:
        if value is None:
            return
        earlier = set_by.get((ref, attr))
        if earlier and earlier[1] != value:
            say(i, f"sets {attr} of {ref} to {value!r}, but {scenario.label(earlier[0])} set it to "
                   f"{earlier[1]!r}; keep one value")
        set_by[(ref, attr)] = (i, value)

    for i, change in enumerate(scenario.changes):
        ref = change.ref
        if isinstance(change, Add):
            if ref in known:
                origin = known[ref]
                what = (f"already exists in {table}" if origin is None
                        else f"is already added by {scenario.label(origin)}")
                say(i, f"id '{ref}' {what}; give the new facility its own id")
            else:
                known[ref] = i
            problem = _type_problem("add", change.type, profile, type_map)
            if problem:
                say(i, problem)
            continue
        if not exists(i, ref):
            continue
        if ref in closed:
            say(i, f"{ref} is closed by {scenario.label(closed[ref])} and cannot be changed afterwards; "
                   f"drop one of the two changes or reorder them")
            continue
        if isinstance(change, Relocate):
            if known[ref] is not None:
                say(i, f"{ref} is added by {scenario.label(known[ref])}; give the final site in that add "
                       f"instead of relocating it")
            elif ref in relocated:
                say(i, f"relocates {ref} a second time ({scenario.label(relocated[ref])} moves it already); "
                       f"keep one relocation with the final site")
            relocated[ref] = i
            settle(i, ref, "beds", change.beds)
            settle(i, ref, "ambulances", change.ambulances)
            settle(i, ref, "name", change.name)
        elif isinstance(change, Close):
            if known[ref] is not None:
                say(i, f"closes {ref}, which {scenario.label(known[ref])} adds; drop both changes")
            if ref in merged_into:
                say(i, f"closes {ref}, into which {scenario.label(merged_into[ref])} merges another facility; "
                       f"merge into a facility that stays open")
            if change.into is not None:
                if change.into == ref:
                    say(i, f"{ref} cannot merge into itself")
                elif exists(i, change.into, " (into)"):
                    if change.into in closed:
                        say(i, f"merges into {change.into}, which {scenario.label(closed[change.into])} closes")
                    merged_into[change.into] = i
            closed[ref] = i
        elif isinstance(change, Upgrade):
            if change.type is not None:
                problem = _type_problem("upgrade", change.type, profile, type_map)
                if problem:
                    say(i, problem)
            settle(i, ref, "type", None if change.type is None else facility_type(change.type, type_map))
            settle(i, ref, "emergency", change.emergency)
            settle(i, ref, "name", change.name)
        elif isinstance(change, Expand):
            settle(i, ref, "beds", change.beds)
            settle(i, ref, "ambulances", change.ambulances)
    if problems:
        raise ScenarioError("\n".join(problems))


def check(scenario: Scenario, inputs: StudyInputs, facilities: pd.DataFrame | None = None,
          projections: Projections | None = None) -> dict[int, Site]:
    """Every check of the scenario against the study and the facility table it changes (default: the
    study's own); returns the located sites (``projections``: see :func:`~healthreach.scenario.sites.locate`)."""
    facilities = inputs.facilities if facilities is None else facilities
    check_changes(scenario, facilities, inputs.profile, inputs.study.facilities.path.name,
                  inputs.study.facilities.type_map)
    if not has_ambulance_counts(inputs.study.facilities):
        for i, change in enumerate(scenario.changes):
            if getattr(change, "ambulances", None):
                raise ScenarioError(f"{scenario.where}: {scenario.label(i)}: sets ambulances, but the study's "
                                    f"facility list gives no ambulance counts (facilities.ambulances_column), so "
                                    f"the change would count for nothing; give the study its ambulance counts")
    return locate(scenario, inputs, facilities, projections)
