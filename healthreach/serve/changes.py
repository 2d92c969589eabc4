"""A session's changes kept as one valid scenario file: each new change merged into the list.

The page sends one change at a time, in the scenario file's format. A
scenario file may relocate a facility only once, may not close a facility it
adds, and may not set one facility's beds twice (see docs/scenarios.md), so a
second drag of one marker replaces the first relocation's site, a change to
a facility the session added edits its ``add``, and closing it drops the
``add``. The merged list describes the same facility table as the changes
applied one after another, so ``healthreach scenario`` on the saved file
gives the figures the page showed.
"""

from __future__ import annotations

import copy
from typing import Any

from healthreach.scenario.schema import Change, Close, Expand, Relocate, Upgrade, kind_of

ChangeDict = dict[str, Any]  # one change as a scenario file writes it


def as_dict(change: Change) -> ChangeDict:
    """A parsed change as the scenario file writes it: its kind first, keys left at their default omitted."""
    data = change.model_dump(exclude_none=True, exclude_defaults=True)
    kind = kind_of(change)
    return {kind: data.pop(kind), **data}


def merge(changes: list[ChangeDict], change: Change) -> list[ChangeDict]:
    """``changes`` (a valid scenario's, as dicts) with ``change`` merged in or appended (a new list)."""
    out = copy.deepcopy(changes)
    new = as_dict(change)
    ref = change.ref
    added = _find(out, "add", ref)
    if isinstance(change, Close) and change.into is None and added is not None \
            and not _merged_into(out, ref, added):
        return [c for c in out if _ref(c) != ref]  # a facility added then closed: neither happens
    if isinstance(change, Relocate | Upgrade | Expand) and added is not None and not _merged_into(out, ref, added):
        _edit_add(out[added], new)
        return out
    if isinstance(change, Relocate):
        at = _find(out, "relocate", ref)
        if at is not None and not _merged_into(out, ref, at):
            out[at].update({k: v for k, v in new.items() if k != "relocate"})
            return out
    if isinstance(change, Upgrade):
        at = _find(out, "upgrade", ref)
        if at is not None and not _merged_into(out, ref, at):
            out[at].update({k: v for k, v in new.items() if k != "upgrade"})
            return out
    if isinstance(change, Expand):
        return _merge_expand(out, new, ref)
    out.append(new)
    return out


def _merge_expand(out: list[ChangeDict], new: ChangeDict, ref: str) -> list[ChangeDict]:
    """An expansion: numbers a relocation of the facility already set are set there, the rest in one expand."""
    moved = _find(out, "relocate", ref)
    if moved is not None and not _merged_into(out, ref, moved):
        for key in ("beds", "ambulances"):
            if key in new and key in out[moved]:
                out[moved][key] = new.pop(key)
    if "beds" not in new and "ambulances" not in new:
        return out
    at = _find(out, "expand", ref)
    if at is not None and not _merged_into(out, ref, at):
        out[at].update({k: v for k, v in new.items() if k != "expand"})
    else:
        out.append(new)
    return out


def _edit_add(add: ChangeDict, new: ChangeDict) -> None:
    """Apply a relocation, upgrade or expansion of a facility the session adds to its ``add`` change."""
    for key, value in new.items():
        if key in ("relocate", "upgrade", "expand", "note"):
            continue
        add["at" if key == "to" else key] = value


def _ref(change: ChangeDict) -> str:
    """The facility id a change (as a dict) is about."""
    return str(next(change[k] for k in ("add", "relocate", "close", "upgrade", "expand") if k in change))


def _find(changes: list[ChangeDict], kind: str, ref: str) -> int | None:
    """Position of the change of ``kind`` about ``ref``, or None."""
    return next((i for i, c in enumerate(changes) if kind in c and str(c[kind]) == ref), None)


def _merged_into(changes: list[ChangeDict], ref: str, since: int) -> bool:
    """Whether a change after position ``since`` merges another facility into ``ref`` (order then matters)."""
    return any(str(c.get("into")) == ref for c in changes[since + 1:])

