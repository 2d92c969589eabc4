"""How standards name their columns: the standard id without its threshold, then the profile's threshold."""

from __future__ import annotations

import re


def label(sid: str) -> str:
    """The standard id without a trailing threshold: 'primary_care_15min' -> 'primary_care'.

    Columns add the profile's threshold themselves, so they follow it when
    the profile changes it (a 20-minute circle gives ``primary_care_20min_share``).
    """
    return re.sub(r"_\d+(\.\d+)?(min|h|km)?$", "", sid) or sid


def minutes(value: float) -> str:
    """A threshold for column names: 15.0 -> '15min', 7.5 -> '7.5min'."""
    return f"{value:g}min"
