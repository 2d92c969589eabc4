"""The nearest-facility pass side by side with its peers, on the same network and facilities.

Every peer answers the same question as :func:`healthreach.reach.nearest_facility`
(travel time from every node to the nearest facility of a group) and its
answer is checked against healthreach's before any ratio is reported: costs
equal to 1e-6 s (pandana, which computes in single precision, to its own
stated tolerance) and the same nearest facility wherever the nearest is not
tied.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra

from healthreach.network import MIN_WEIGHT, Network
from healthreach.reach import Surface, nearest_facility

# 1e-6 s, plus the floor (network.MIN_WEIGHT, 1e-6 s) the engine puts on the zero-length virtual edge
# that joins a facility standing on a node: the peers start at the node itself
TOL_S = 1e-6 + MIN_WEIGHT
EGO_THRESHOLDS_MIN = (5, 10, 15)


class MismatchError(AssertionError):
    """A peer's answer differs from healthreach's: no ratio may be reported."""


@dataclass(frozen=True)
class PeerCase:
    """One comparison: the network, the group's facilities (snapped node and row in the facility table),
    the travel surface compared (mode, weight in seconds or metres, direction), and where progress is told.
    """

    net: Network
    facility_nodes: np.ndarray
    rows: np.ndarray
    mode: str
    weight: str
    direction: str
    label: str
    log: Callable[[str], None]

    @property
    def reverse(self) -> bool:
        """Whether the search runs on the reversed graph (travel towards the facilities)."""
        return self.direction == "to"

    @property
    def rows_nodes(self) -> dict[int, int]:
        """Facility row -> its snapped node."""
        return {int(r): int(n) for n, r in zip(self.facility_nodes, self.rows, strict=False)}


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best wall time (seconds) over ``repeat`` runs, and the last result."""
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


@contextlib.contextmanager
def quiet_fd():
    """Silence C-level stdout/stderr (pandana prints progress from C++)."""
    saved = [os.dup(1), os.dup(2)]
    with Path(os.devnull).open("w") as null:
        os.dup2(null.fileno(), 1)
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def edges(net: Network, mode: str, weight: str, reverse: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed edges (tail, head, weight) of the mode, parallel edges reduced to the smallest weight.

    Built from the network's edge arrays directly (not from healthreach's CSR),
    so the peers' graphs are an independent reading of the same roads.
    """
    w = net.weights(mode, weight)
    ok = np.isfinite(w)
    t, h = (net.head, net.tail) if reverse else (net.tail, net.head)
    t, h, w = t[ok].astype(np.int64), h[ok].astype(np.int64), w[ok]
    order = np.lexsort((w, h, t))
    t, h, w = t[order], h[order], w[order]
    first = np.r_[True, (t[1:] != t[:-1]) | (h[1:] != h[:-1])]
    return t[first], h[first], w[first]


def digraph(net: Network, mode: str, weight: str, reverse: bool) -> nx.DiGraph:
    """A networkx DiGraph of the mode (``reverse``: every edge flipped), weights in attribute ``w``."""
    t, h, w = edges(net, mode, weight, reverse)
    graph = nx.DiGraph()
    graph.add_nodes_from(range(net.n_nodes))
    graph.add_weighted_edges_from(zip(t.tolist(), h.tolist(), w.tolist(), strict=False), weight="w")
    return graph


def row_of_source(facility_nodes: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """Per node: the first-listed facility row standing on it (-1: none)."""
    out = np.full(n, -1, np.int64)
    out[facility_nodes[::-1]] = rows[::-1]
    return out


def check_same(name: str, ref: Surface, cost: np.ndarray, facility: np.ndarray | None, case: PeerCase, *,
               reverse: bool, tol: float | np.ndarray = TOL_S) -> dict:
    """Assert a peer's costs (and nearest facility) equal healthreach's; return what was compared.

    Where the two name different facilities, the peer's facility is checked to
    be reached at the same minimum cost by an independent single-source search
    (a tie), otherwise :class:`MismatchError` is raised.
    """
    both_inf = np.isinf(ref.cost) & np.isinf(cost)
    with np.errstate(invalid="ignore"):
        diff = np.where(both_inf, 0.0, np.abs(ref.cost - cost))
    bad = ~(diff <= tol)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        msg = (
            f"{name}: {int(bad.sum())} nodes differ in cost by more than {tol:g} "
            f"(node {i}: healthreach {ref.cost[i]!r}, {name} {cost[i]!r})"
        )
        raise MismatchError(msg)
    out = {"nodes_compared": len(cost), "max_cost_difference": float(diff.max()) if len(diff) else 0.0}
    if facility is None:
        return out
    differ = np.flatnonzero((facility != ref.facility) & np.isfinite(ref.cost))
    ties = 0
    if len(differ):
        csr = case.net.graph(case.mode, case.weight, reverse=reverse)
        node_of_row = {r: n for n, r in case.rows_nodes.items()}
        for row in np.unique(facility[differ]):
            sel = differ[facility[differ] == row]
            if row < 0:
                msg = f"{name}: {len(sel)} reachable nodes given no facility"
                raise MismatchError(msg)
            alone = dijkstra(csr, directed=True, indices=int(node_of_row[int(row)]))
            gap = np.abs(alone[sel] - ref.cost[sel])
            if not (gap <= tol).all():
                msg = (
                    f"{name}: nearest facility differs at {int((gap > tol).sum())} nodes that are not ties "
                    f"(e.g. node {int(sel[np.argmax(gap)])}: facility row {int(row)} is "
                    f"{float(gap.max()):.3f} farther)"
                )
                raise MismatchError(msg)
            ties += len(sel)
    out.update(facility_compared=True, facility_differs_at_ties=int(ties))
    return out


def compare(  # noqa: PLR0913  keyword-only options of the comparison, each documented below
            net: Network, facility_nodes: np.ndarray, rows: np.ndarray, *, label: str,
            reopen: Callable[[], Network], mode: str = "drive", weight: str = "time", direction: str = "to",
            ego_facilities: int | None = None, pandana: bool = True, networkx: bool = True, repeat: int = 3,
            log: Callable[[str], None] = print, pandana_limit_s: float = 300.0) -> dict:
    """Time the nearest-facility pass against every peer on one network; results checked first.

    Parameters
    ----------
    facility_nodes, rows : ndarray
        The group's facilities: snapped node and row in the facility table.
    reopen : callable
        The same network again, with no CSR graph built yet (the study
        opened once more): the graph's build is timed on it, ``repeat``
        times.
    ego_facilities : int, optional
        Run the per-facility ego-graph recipe for only this many facilities
        (the first listed) and extrapolate its time to all of them; ``None``
        runs it for every facility.
    """
    reverse = direction == "to"
    facility_nodes = np.asarray(facility_nodes, np.int64)
    rows = np.asarray(rows, np.int64)
    case = PeerCase(net, facility_nodes, rows, mode, weight, direction, label, log)
    sources = np.unique(facility_nodes)
    res: dict[str, Any] = {"label": label, "nodes": net.n_nodes, "mode": mode, "weight": weight,
                           "direction": direction, "facilities": len(facility_nodes),
                           "source_nodes": len(sources)}

    # healthreach: CSR build (once per network and mode), then the pass itself
    build = []
    for _ in range(repeat):
        fresh = reopen()
        t0 = time.perf_counter()
        fresh.graph(mode, weight, reverse=reverse)
        build.append(time.perf_counter() - t0)
    res["csr_build_s"] = min(build)
    csr = net.graph(mode, weight, reverse=reverse)

    def engine():
        return nearest_facility(net, net.at_nodes(facility_nodes), mode, weight, direction, rows)

    def bare():  # the bare compiled call: the lower bound of the engine
        return dijkstra(csr, directed=True, indices=sources, min_only=True, return_predecessors=True)

    def bare_costs_only():
        return dijkstra(csr, directed=True, indices=sources, min_only=True)

    # interleaved, best of several rounds each: a busy machine slows all three alike
    best = {"engine": np.inf, "bare": np.inf, "bare_costs": np.inf}
    for _ in range(max(repeat, 7)):
        for key, fn in (("engine", engine), ("bare", bare), ("bare_costs", bare_costs_only)):
            t0 = time.perf_counter()
            out = fn()
            best[key] = min(best[key], time.perf_counter() - t0)
            if key == "engine":
                ref = out
            elif key == "bare":
                cost, _, origin = out
    res["engine_s"], res["scipy_bare_s"], res["scipy_bare_no_predecessors_s"] = (
        best["engine"], best["bare"], best["bare_costs"])
    log(f"  [{label}] healthreach nearest_facility: {res['engine_s'] * 1000:.1f} ms "
        f"(CSR build {res['csr_build_s'] * 1000:.1f} ms, once per network)")
    src_row = row_of_source(facility_nodes, rows, net.n_nodes)
    fac = np.where(origin >= 0, src_row[np.maximum(origin, 0)], -1)
    res["scipy_check"] = check_same("scipy", ref, cost, fac, case, reverse=reverse)
    res["engine_overhead_x"] = res["engine_s"] / res["scipy_bare_s"]
    log(f"  [{label}] bare scipy dijkstra(min_only, predecessors): {res['scipy_bare_s'] * 1000:.1f} ms "
        f"-> engine overhead {res['engine_overhead_x']:.2f}x")

    if networkx:
        res.update(networkx_peers(case, ref, sources, src_row, ego_facilities, res["engine_s"]))

    if pandana:
        res["pandana"] = pandana_peer(case, ref, pandana_limit_s)
        if "query_s" in res["pandana"]:
            res["vs_pandana_x"] = res["pandana"]["query_s"] / res["engine_s"]
    return res


def networkx_peers(case: PeerCase, ref: Surface, sources: np.ndarray, src_row: np.ndarray,
                   ego_facilities: int | None, engine_s: float) -> dict[str, Any]:
    """The multi-source Dijkstra of networkx (without and with paths) and the ego-graph recipe, each checked
    against ``ref`` and timed (seconds, and ratios to ``engine_s``).
    """
    net, mode, weight, label, log = case.net, case.mode, case.weight, case.label, case.log
    res: dict[str, Any] = {}
    t0 = time.perf_counter()
    graph = digraph(net, mode, weight, case.reverse)
    res["networkx_graph_build_s"] = time.perf_counter() - t0
    res["networkx_s"], dist = timed(lambda: nx.multi_source_dijkstra_path_length(graph, sources.tolist(), weight="w"),
                                    repeat=2)
    cost = np.full(net.n_nodes, np.inf)
    cost[np.fromiter(dist.keys(), np.int64, len(dist))] = np.fromiter(dist.values(), float, len(dist))
    res["networkx_check"] = check_same("networkx", ref, cost, None, case, reverse=case.reverse)
    del dist
    res["networkx_paths_s"], (dist, paths) = timed(
        lambda: nx.multi_source_dijkstra(graph, sources.tolist(), weight="w"))
    nodes = np.fromiter(dist.keys(), np.int64, len(dist))
    cost = np.full(net.n_nodes, np.inf)
    cost[nodes] = np.fromiter(dist.values(), float, len(dist))
    fac = np.full(net.n_nodes, -1, np.int64)
    fac[nodes] = src_row[np.fromiter((paths[n][0] for n in dist), np.int64, len(dist))]
    res["networkx_paths_check"] = check_same("networkx (with paths)", ref, cost, fac, case,
                                             reverse=case.reverse)
    del dist, paths
    res["vs_networkx_x"] = res["networkx_s"] / engine_s
    res["vs_networkx_paths_x"] = res["networkx_paths_s"] / engine_s
    log(f"  [{label}] networkx multi_source_dijkstra_path_length: {res['networkx_s']:.2f} s "
        f"-> healthreach {res['vs_networkx_x']:.0f}x faster (with paths for the facility: "
        f"{res['networkx_paths_s']:.2f} s, {res['vs_networkx_paths_x']:.0f}x)")

    res["ego"] = ego_recipe(case, graph, ref, ego_facilities)
    res["vs_ego_x"] = res["ego"]["seconds_all_facilities"] / engine_s
    log(f"  [{label}] healthreach {res['vs_ego_x']:.0f}x faster than the ego-graph recipe"
        + (" (recipe time extrapolated)" if res["ego"]["extrapolated"] else ""))
    return res


def ego_recipe(case: PeerCase, graph: nx.DiGraph, ref: Surface, limit: int | None) -> dict:
    """The common osmnx isochrone recipe: per facility and threshold, ``ego_graph`` then a convex hull.

    Checked: the union of the recipe's nodes within each threshold equals
    healthreach's nodes within it (for the facilities the recipe ran on).
    """
    net, facility_nodes, rows = case.net, case.facility_nodes, case.rows
    k = len(facility_nodes) if limit is None else min(limit, len(facility_nodes))
    pts = np.column_stack([net.x, net.y])
    t0 = time.perf_counter()
    reached = {t: np.zeros(net.n_nodes, bool) for t in EGO_THRESHOLDS_MIN}
    hulls = 0
    for node in facility_nodes[:k].tolist():
        for minutes in EGO_THRESHOLDS_MIN:
            sub = nx.ego_graph(graph, node, radius=minutes * 60, distance="w")
            members = np.fromiter(sub.nodes, np.int64, sub.number_of_nodes())
            _hull = shapely.MultiPoint(pts[members]).convex_hull  # the recipe's isochrone polygon
            hulls += 1
            reached[minutes][members] = True
    seconds = time.perf_counter() - t0
    # the same facilities through healthreach, to compare node sets exactly
    part = ref if k == len(facility_nodes) else nearest_facility(
        net, net.at_nodes(facility_nodes[:k]), case.mode, case.weight, case.direction, rows[:k])
    for minutes, mask in reached.items():
        limit_s = minutes * 60
        clear = np.abs(part.cost - limit_s) > TOL_S  # nodes at the threshold itself may round either way
        ours = part.cost <= limit_s
        if not np.array_equal(mask[clear], ours[clear]):
            n_bad = int((mask[clear] != ours[clear]).sum())
            msg = f"ego-graph recipe: {n_bad} nodes within {minutes} min differ from healthreach"
            raise MismatchError(msg)
    out = {"facilities_run": k, "facilities": len(facility_nodes), "thresholds_min": list(EGO_THRESHOLDS_MIN),
           "ego_graphs": hulls, "seconds": seconds, "extrapolated": k < len(facility_nodes),
           "seconds_all_facilities": seconds * len(facility_nodes) / k, "node_sets_identical": True}
    extrapolated = (f" -> {out['seconds_all_facilities']:.1f} s for all {len(facility_nodes)} (extrapolated)"
                    if k < len(facility_nodes) else "")
    case.log(f"  [{case.label}] ego-graph recipe: {k} facilities x {len(EGO_THRESHOLDS_MIN)} thresholds in "
             f"{seconds:.2f} s{extrapolated}")
    return out


def pandana_peer(case: PeerCase, ref: Surface, time_limit_s: float = 300.0) -> dict:
    """Pandana ``nearest_pois`` (contraction hierarchies) on the same edges, in a child process.

    Skipped, with the reason, if pandana does not import, ends its process, or
    has not answered within ``time_limit_s`` (contraction included).
    """
    net, facility_nodes, rows, mode, weight = case.net, case.facility_nodes, case.rows, case.mode, case.weight
    label, log = case.label, case.log
    try:
        import pandana
    except Exception as exc:  # noqa: BLE001 - any import failure means: skip with the reason
        log(f"  [{label}] pandana skipped: {exc}")
        return {"skipped": f"pandana does not import: {exc}"}
    if case.direction != "to":
        return {"skipped": "pandana's nearest_pois measures from nodes to POIs only"}
    t, h, w = edges(net, mode, weight, reverse=False)  # pandana searches node -> POI on the forward graph
    reach_max = float(ref.cost[np.isfinite(ref.cost)].max()) + 1.0
    # pandana stores each edge as an unsigned 32-bit integer of 1/1000 of the unit given (so do its
    # shortcuts, which may span the whole network) and answers in float32: pass the finest unit
    # (ms, cs, ...) for which a bound on the network's diameter stays well inside 32 bits
    centre = int(facility_nodes[0])
    diameter = sum(float(np.max(c[np.isfinite(c)])) for c in (
        dijkstra(net.graph(mode, weight, reverse=r), directed=True, indices=centre) for r in (False, True)))
    scale = next((f for f in (1000.0, 100.0, 10.0, 1.0) if diameter * f * 1000 < 1.0e9), 1.0)
    out: dict[str, Any] = {"version": pandana.__version__, "max_distance_s": reach_max, "unit_s": 1 / scale,
                           "diameter_bound_s": diameter}

    # in a fresh child process: pandana's C++ ends its whole process on some errors
    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_pandana_child, args=(there, net.x, net.y, t, h, w * scale, reach_max * scale, rows,
                                                     net.x[facility_nodes], net.y[facility_nodes]))
    child.start()
    there.close()
    try:
        if not here.poll(time_limit_s):
            child.terminate()
            child.join()
            reason = (f"contraction + query not finished within {time_limit_s:.0f} s "
                      f"({net.n_nodes:,} nodes); stopped")
            log(f"  [{label}] pandana skipped: {reason}")
            return {**out, "skipped": reason}
        took, dist, fac = here.recv()
    except EOFError:
        child.join()
        reason = f"pandana ended its process (exit code {child.exitcode}) before answering"
        log(f"  [{label}] pandana skipped: {reason}")
        return {**out, "skipped": reason}
    child.join()
    out.update(took)
    dist = dist / scale
    cost = np.where(dist >= reach_max, np.inf, dist)
    fac = np.where(np.isnan(fac), -1, fac).astype(np.int64)
    # its rounding, per node: each edge truncated to 1/1000 unit, the sum read back as float32
    csr = net.graph(mode, weight, reverse=True)
    _, pred, _ = dijkstra(csr, directed=True, indices=np.unique(facility_nodes), min_only=True,
                          return_predecessors=True)
    finite = np.where(np.isfinite(ref.cost), ref.cost, 0.0)
    tol = 2 * (hops(pred) * (1e-3 / scale) + np.spacing((finite * scale).astype(np.float32)) / scale) + TOL_S
    out["tolerance_s_max"] = float(tol.max())
    try:
        out["check"] = check_same("pandana", ref, cost, fac, case, reverse=True, tol=tol)
    except MismatchError as exc:
        out["check"] = {"failed": str(exc)}
        log(f"  [{label}] pandana results differ, no ratio reported: {exc}")
        out.pop("query_s")
        return out
    log(f"  [{label}] pandana nearest_pois: {out['query_s'] * 1000:.0f} ms query after {out['preprocess_s']:.2f} s "
        f"contraction (compared within its integer/float32 rounding, at most {out['tolerance_s_max']:.1e} s)")
    return out


def _pandana_child(  # noqa: PLR0913, PLR0917  a child process is sent plain arrays
        conn, x, y, tail, head, w, max_distance, rows, fx, fy) -> None:
    """Build pandana's network, set the POIs and query the nearest one; send back times and answers."""
    import pandana
    import pandas as pd

    with quiet_fd():
        t0 = time.perf_counter()
        pnet = pandana.Network(pd.Series(x), pd.Series(y), pd.Series(tail), pd.Series(head),
                               pd.DataFrame({"w": w}), twoway=False)
        took = {"preprocess_s": time.perf_counter() - t0}
        poi = pd.Series(rows)
        t0 = time.perf_counter()
        # the query's maximum may not exceed the one given here, even by rounding
        pnet.set_pois("fac", max_distance * 1.01, 1, pd.Series(fx, index=poi), pd.Series(fy, index=poi))
        took["set_pois_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        found = pnet.nearest_pois(max_distance, "fac", num_pois=1, include_poi_ids=True)
        took["query_s"] = time.perf_counter() - t0
    conn.send((took, found[1].to_numpy(float), found["poi1"].to_numpy(float)))
    conn.close()


def hops(pred: np.ndarray) -> np.ndarray:
    """Edges on each node's path in a shortest-path forest given by predecessors (-9999: root/none)."""
    up = np.where(pred >= 0, pred, -1)
    depth = (up >= 0).astype(np.int64)
    for _ in range(64):  # doubles the jump each round: 64 rounds cover any forest
        if not (up >= 0).any():
            break
        has = up >= 0
        nxt = np.where(has, up, 0)  # pointer jumping: depth[i] counts the edges from i up to up[i]
        depth = np.where(has, depth + depth[nxt], depth)
        up = np.where(has, up[nxt], -1)
    return depth
