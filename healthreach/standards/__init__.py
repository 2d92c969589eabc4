"""The standards: one unit per kind, built from the profile (see :mod:`healthreach.standards.base`).

Kinds: ``circle`` (the medical service circle), ``radius`` (emergency
service radius), ``response`` (emergency response time), ``ambulance_ratio``
and ``ambulance_density`` (ambulance counts), ``drive_time`` (a facility
within a travel time, e.g. a tertiary hospital within an hour) and
``villages`` (villages near care). A new standard of an existing kind is an
entry of the profile, no code.
"""

from healthreach.standards.base import CellView, Context, Figure, Standard, TownshipColumn
from healthreach.standards.registry import UNITS, build_standards

__all__ = ["UNITS", "CellView", "Context", "Figure", "Standard", "TownshipColumn", "build_standards"]
