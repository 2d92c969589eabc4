"""The travel surface: cost from every node and cell to the nearest facility.

One multi-source shortest-path pass per (mode, facility group, weight,
direction) in compiled code (``scipy.sparse.csgraph.dijkstra`` with
``min_only``) gives, for every node, the cost to the nearest facility of the
group and which facility that is. Cells reach the network by an off-road
walking leg from the cell centre to the nearest usable node.

Direction matters on one-way streets: patients travel *to* facilities (the
search runs on the reversed graph), ambulances drive *from* their stations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.sparse.csgraph import dijkstra

from healthreach.network import Network

Direction = Literal["to", "from"]


@dataclass(frozen=True)
class Surface:
    """Cost to the nearest facility of a group, per network node.

    ``cost`` is seconds (weight ``time``) or metres (weight ``length``),
    ``inf`` where no facility is reachable; ``facility`` is the facility's
    row in the facility table, -1 where unreachable.
    """

    mode: str
    weight: str
    direction: Direction
    cost: np.ndarray
    facility: np.ndarray


@dataclass(frozen=True)
class Access:
    """How points reach the network in one mode: nearest usable node and the leg length (metres)."""

    node: np.ndarray
    leg_m: np.ndarray


def nearest_facility(net: Network, facility_nodes: np.ndarray, mode: str, weight: str = "time",
                     direction: Direction = "to", rows: np.ndarray | None = None) -> Surface:
    """Run one multi-source Dijkstra from a group's facilities.

    Parameters
    ----------
    facility_nodes : ndarray of int
        The node each facility of the group is snapped to.
    rows : ndarray of int, optional
        The facilities' rows in the facility table (default ``0..k-1``).
        Where several facilities share a node, the first listed is the one
        reported as nearest.
    direction : {"to", "from"}
        ``to``: cost of travelling from each node to the facility (patients);
        ``from``: cost from the facility out to each node (ambulances).
    """
    facility_nodes = np.asarray(facility_nodes, np.int64)
    rows = np.arange(len(facility_nodes)) if rows is None else np.asarray(rows, np.int64)
    n = net.n_nodes
    if len(facility_nodes) == 0:
        return Surface(mode, weight, direction, np.full(n, np.inf), np.full(n, -1, np.int64))
    sources, first = np.unique(facility_nodes, return_index=True)
    graph = net.graph(mode, weight, reverse=(direction == "to"))
    cost, _, origin = dijkstra(graph, directed=True, indices=sources, min_only=True, return_predecessors=True)
    row_of_node = np.full(n, -1, np.int64)
    row_of_node[sources] = rows[first]
    facility = np.where(origin >= 0, row_of_node[np.maximum(origin, 0)], -1)
    return Surface(mode, weight, direction, cost, facility)


def access(net: Network, x: np.ndarray, y: np.ndarray, mode: str) -> Access:
    """Snap points (metres) to the nearest node the mode can use."""
    node, leg = net.snap(x, y, mode)
    return Access(node, leg)


def point_cost(surface: Surface, acc: Access, access_kmh: float) -> np.ndarray:
    """Cost for points that reach the network through ``acc``.

    Time surfaces add the leg walked at ``access_kmh`` (seconds); length
    surfaces add the leg's straight-line length (metres).
    """
    leg = acc.leg_m / (access_kmh / 3.6) if surface.weight == "time" else acc.leg_m
    return surface.cost[acc.node] + leg
