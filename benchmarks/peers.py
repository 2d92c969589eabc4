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


def spread(times: list[float]) -> dict[str, Any]:
    """Median, least and greatest of repeated times (seconds), and how many there were."""
    return {"median_s": float(np.median(times)), "min_s": float(min(times)), "max_s": float(max(times)),
            "runs": len(times)}


def paired(engine: Callable[[], Any], peers: dict[str, Callable[[], Any]], rounds: int,
           calls: int = 3) -> dict[str, dict]:
    """Each peer timed ``rounds`` times, each time right after the engine, peers in turn within a round: the
    engine and every peer are timed the same number of times, interleaved, and each peer's ratio is taken pair
    by pair, so a busy machine slows both sides of a ratio alike. One time is the least wall time (seconds)
    of ``calls`` calls in a row, on both sides (a call the operating system paused is not the call's cost).

    Returns, per peer, its times and the times of the engine paired with them.
    """
    def least_of(fn: Callable[[], Any]) -> float:
        least = np.inf
        for _ in range(calls):
            t0 = time.perf_counter()
            fn()
            least = min(least, time.perf_counter() - t0)
        return float(least)

    out: dict[str, dict] = {name: {"peer": [], "engine": []} for name in peers}
    for _ in range(rounds):
        for name, fn in peers.items():
            out[name]["engine"].append(least_of(engine))
            out[name]["peer"].append(least_of(fn))
    return out


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
            ego_facilities: int | None = None, pandana: bool = True, networkx: bool = True, rounds: int = 5,
            log: Callable[[str], None] = print, pandana_limit_s: float = 300.0) -> dict:
    """Time the nearest-facility pass against every peer on one network; answers checked first.

    Every peer (the bare scipy call, networkx with and without paths, the
    ego-graph recipe, the networkx cutoff search, pandana's query) runs
    ``rounds`` times, each time right after the engine (see :func:`paired`;
    each time the least of three calls in a row, on both sides): every peer is
    timed as often as the engine and interleaved with it. Times are reported as
    median, least and greatest; a ratio is the median of the pairs' ratios.

    Parameters
    ----------
    facility_nodes, rows : ndarray
        The group's facilities: snapped node and row in the facility table.
    reopen : callable
        The same network again, with no CSR graph built yet (the study
        opened once more): the graph's build is timed on it, ``rounds`` times.
    ego_facilities : int, optional
        Run the per-facility peers (ego-graph recipe, cutoff search) for only
        this many facilities (the first listed) and scale their time to all of
        them; ``None`` runs them for every facility.
    """
    reverse = direction == "to"
    facility_nodes = np.asarray(facility_nodes, np.int64)
    rows = np.asarray(rows, np.int64)
    case = PeerCase(net, facility_nodes, rows, mode, weight, direction, label, log)
    sources = np.unique(facility_nodes)
    res: dict[str, Any] = {"label": label, "nodes": net.n_nodes, "mode": mode, "weight": weight,
                           "direction": direction, "facilities": len(facility_nodes),
                           "source_nodes": len(sources), "rounds": rounds}

    # healthreach: CSR build (once per network and mode), then the pass itself
    build = []
    for _ in range(rounds):
        fresh = reopen()
        t0 = time.perf_counter()
        fresh.graph(mode, weight, reverse=reverse)
        build.append(time.perf_counter() - t0)
    res["csr_build"] = spread(build)
    res["csr_build_s"] = res["csr_build"]["median_s"]
    csr = net.graph(mode, weight, reverse=reverse)

    def engine():
        return nearest_facility(net, net.at_nodes(facility_nodes), mode, weight, direction, rows)

    def bare():  # the bare compiled call: the lower bound of the engine
        return dijkstra(csr, directed=True, indices=sources, min_only=True, return_predecessors=True)

    def bare_costs_only():
        return dijkstra(csr, directed=True, indices=sources, min_only=True)

    # every answer is checked before any time is taken
    ref = engine()
    cost, _, origin = bare()
    src_row = row_of_source(facility_nodes, rows, net.n_nodes)
    fac = np.where(origin >= 0, src_row[np.maximum(origin, 0)], -1)
    res["scipy_check"] = check_same("scipy", ref, cost, fac, case, reverse=reverse)
    contenders: dict[str, Callable[[], Any]] = {"scipy_bare": bare, "scipy_bare_no_predecessors": bare_costs_only}
    k = len(facility_nodes) if ego_facilities is None else min(ego_facilities, len(facility_nodes))
    if networkx:
        contenders.update(networkx_contenders(case, ref, sources, src_row, k, res))
    server = None
    if pandana:
        server, res["pandana"] = pandana_server(case, ref, pandana_limit_s)
        if server is not None:
            contenders["pandana"] = server.query
    try:
        log(f"  [{label}] timing the engine and {', '.join(contenders)}: {rounds} rounds, each peer paired "
            f"with an engine run")
        times = paired(engine, contenders, rounds)
    finally:
        if server is not None:
            server.close()
    summarise(res, times, len(facility_nodes) / k, label, log)
    return res


def summarise(res: dict[str, Any], times: dict[str, dict], scale: float, label: str,
              log: Callable[[str], None]) -> None:
    """Put each peer's times (median, spread), its paired engine times and its ratio to the engine (the
    median of the pairs' ratios) into ``res``; ``scale`` multiplies the per-facility peers' times (run for
    some facilities) up to every facility.
    """
    res["times"] = {name: {**spread(t["peer"]), "engine": spread(t["engine"]),
                           "ratio_x": float(np.median(np.divide(t["peer"], t["engine"])))}
                    for name, t in times.items()}
    res["times"]["engine"] = spread([x for t in times.values() for x in t["engine"]])
    med = {name: t["median_s"] for name, t in res["times"].items()}
    ratio = {name: t["ratio_x"] for name, t in res["times"].items() if name != "engine"}
    res["engine_s"], res["scipy_bare_s"], res["scipy_bare_no_predecessors_s"] = (
        med["engine"], med["scipy_bare"], med["scipy_bare_no_predecessors"])
    res["engine_overhead_x"] = 1 / ratio["scipy_bare"]
    log(f"  [{label}] healthreach nearest_facility: median {med['engine'] * 1000:.1f} ms; bare scipy "
        f"{med['scipy_bare'] * 1000:.1f} ms -> engine overhead {res['engine_overhead_x']:.2f}x "
        f"(CSR build {res['csr_build_s'] * 1000:.1f} ms, once per network)")
    for name, key in (("networkx", "vs_networkx_x"), ("networkx_paths", "vs_networkx_paths_x")):
        if name in med:
            res[f"{name}_s"] = med[name]
            res[key] = ratio[name]
    for name, key in (("ego", "vs_ego_x"), ("cutoff", "vs_cutoff_x")):
        if name in med:
            res[name].update(seconds=med[name], seconds_all_facilities=med[name] * scale)
            res[key] = ratio[name] * scale
    if "pandana" in med:
        res["pandana"]["query_s"] = med["pandana"]
        res["vs_pandana_x"] = ratio["pandana"]
    for name, t in res["times"].items():
        extra = f" (x {scale:.1f} for every facility)" if name in ("ego", "cutoff") and scale != 1 else ""
        paired_with = f"; {t['ratio_x']:.2f}x the engine, pair by pair" if "ratio_x" in t else ""
        log(f"  [{label}] {name}: median {t['median_s'] * 1000:.1f} ms, {t['min_s'] * 1000:.1f}-"
            f"{t['max_s'] * 1000:.1f} ms over {t['runs']} runs{extra}{paired_with}")


def networkx_contenders(case: PeerCase, ref: Surface, sources: np.ndarray, src_row: np.ndarray, k: int,
                        res: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    """The multi-source Dijkstra of networkx (without and with paths), the ego-graph recipe and the per-facility
    cutoff search, each checked against ``ref`` once; returns them ready to time (``res`` gets the checks).
    """
    net = case.net
    t0 = time.perf_counter()
    graph = digraph(net, case.mode, case.weight, case.reverse)
    res["networkx_graph_build_s"] = time.perf_counter() - t0
    starts = sources.tolist()

    def msd():
        return nx.multi_source_dijkstra_path_length(graph, starts, weight="w")

    def msd_paths():
        return nx.multi_source_dijkstra(graph, starts, weight="w")

    dist = msd()
    cost = np.full(net.n_nodes, np.inf)
    cost[np.fromiter(dist.keys(), np.int64, len(dist))] = np.fromiter(dist.values(), float, len(dist))
    res["networkx_check"] = check_same("networkx", ref, cost, None, case, reverse=case.reverse)
    del dist
    dist, paths = msd_paths()
    nodes = np.fromiter(dist.keys(), np.int64, len(dist))
    cost = np.full(net.n_nodes, np.inf)
    cost[nodes] = np.fromiter(dist.values(), float, len(dist))
    fac = np.full(net.n_nodes, -1, np.int64)
    fac[nodes] = src_row[np.fromiter((paths[n][0] for n in dist), np.int64, len(dist))]
    res["networkx_paths_check"] = check_same("networkx (with paths)", ref, cost, fac, case, reverse=case.reverse)
    del dist, paths
    pts = np.column_stack([net.x, net.y])
    res["ego"] = isochrone_peer("ego-graph recipe", case, ref, k, lambda node: ego_areas(graph, node, pts))
    res["cutoff"] = isochrone_peer("networkx cutoff search", case, ref, k, lambda node: cutoff_areas(graph, node, pts))
    firsts = case.facility_nodes[:k].tolist()
    return {"networkx": msd, "networkx_paths": msd_paths,
            "ego": lambda: [ego_areas(graph, node, pts) for node in firsts],
            "cutoff": lambda: [cutoff_areas(graph, node, pts) for node in firsts]}


def ego_areas(graph: nx.DiGraph, node: int, pts: np.ndarray) -> dict[int, np.ndarray]:
    """The common osmnx isochrone recipe for one facility: per threshold, ``ego_graph`` (a bounded search, then
    a copy of the subgraph) and the convex hull of its nodes. Returns threshold (minutes) -> nodes reached.
    """
    out = {}
    for minutes in EGO_THRESHOLDS_MIN:
        sub = nx.ego_graph(graph, node, radius=minutes * 60, distance="w")
        out[minutes] = np.fromiter(sub.nodes, np.int64, sub.number_of_nodes())
        _hull = shapely.MultiPoint(pts[out[minutes]]).convex_hull  # the recipe's isochrone polygon
    return out


def cutoff_areas(graph: nx.DiGraph, node: int, pts: np.ndarray) -> dict[int, np.ndarray]:
    """The same areas by one search per facility: ``single_source_dijkstra_path_length`` with a cutoff at the
    largest threshold, each threshold's nodes read from its lengths, and the same convex hulls.
    """
    dist = nx.single_source_dijkstra_path_length(graph, node, cutoff=max(EGO_THRESHOLDS_MIN) * 60, weight="w")
    nodes = np.fromiter(dist.keys(), np.int64, len(dist))
    seconds = np.fromiter(dist.values(), float, len(dist))
    out = {}
    for minutes in EGO_THRESHOLDS_MIN:
        out[minutes] = nodes[seconds <= minutes * 60]
        _hull = shapely.MultiPoint(pts[out[minutes]]).convex_hull
    return out


def isochrone_peer(name: str, case: PeerCase, ref: Surface, k: int,
                   areas: Callable[[int], dict[int, np.ndarray]]) -> dict[str, Any]:
    """Check a per-facility isochrone peer on the first ``k`` facilities: the union of its nodes within each
    threshold equals healthreach's nodes within it (for those facilities). Returns what was run.
    """
    net, facility_nodes, rows = case.net, case.facility_nodes, case.rows
    reached = {t: np.zeros(net.n_nodes, bool) for t in EGO_THRESHOLDS_MIN}
    for node in facility_nodes[:k].tolist():
        for minutes, members in areas(node).items():
            reached[minutes][members] = True
    part = ref if k == len(facility_nodes) else nearest_facility(
        net, net.at_nodes(facility_nodes[:k]), case.mode, case.weight, case.direction, rows[:k])
    for minutes, mask in reached.items():
        clear = np.abs(part.cost - minutes * 60) > TOL_S  # nodes at the threshold itself may round either way
        ours = part.cost <= minutes * 60
        if not np.array_equal(mask[clear], ours[clear]):
            n_bad = int((mask[clear] != ours[clear]).sum())
            msg = f"{name}: {n_bad} nodes within {minutes} min differ from healthreach"
            raise MismatchError(msg)
    return {"facilities_run": k, "facilities": len(facility_nodes), "thresholds_min": list(EGO_THRESHOLDS_MIN),
            "extrapolated": k < len(facility_nodes), "node_sets_identical": True}


@dataclass
class PandanaServer:
    """pandana's network in a child process of its own (its C++ ends its whole process on some errors),
    answering one ``nearest_pois`` query each time :meth:`query` asks.
    """

    process: Any
    conn: Any
    time_limit_s: float

    def query(self) -> None:
        """Run one query in the child and wait for it to finish."""
        self.conn.send("query")
        if not self.conn.poll(self.time_limit_s):
            msg = f"pandana's query did not answer within {self.time_limit_s:.0f} s"
            raise MismatchError(msg)
        self.conn.recv()

    def close(self) -> None:
        """End the child process."""
        with contextlib.suppress(OSError, BrokenPipeError):
            self.conn.send("stop")
        self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join()


def pandana_server(case: PeerCase, ref: Surface, time_limit_s: float = 300.0) -> tuple[PandanaServer | None, dict]:
    """Pandana ``nearest_pois`` (contraction hierarchies) on the same edges, in a child process, its answer
    checked; returns the running server (None when skipped) and what was found.

    Skipped, with the reason, if pandana does not import, ends its process, or
    has not answered within ``time_limit_s`` (contraction included).
    """
    net, facility_nodes, rows, mode, weight = case.net, case.facility_nodes, case.rows, case.mode, case.weight
    label, log = case.label, case.log
    try:
        import pandana
    except Exception as exc:  # noqa: BLE001 - any import failure means: skip with the reason
        log(f"  [{label}] pandana skipped: {exc}")
        return None, {"skipped": f"pandana does not import: {exc}"}
    if case.direction != "to":
        return None, {"skipped": "pandana's nearest_pois measures from nodes to POIs only"}
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

    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe(duplex=True)
    child = ctx.Process(target=_pandana_child, args=(there, net.x, net.y, t, h, w * scale, reach_max * scale, rows,
                                                     net.x[facility_nodes], net.y[facility_nodes]))
    child.start()
    there.close()
    server = PandanaServer(child, here, time_limit_s)
    try:
        if not here.poll(time_limit_s):
            server.close()
            reason = (f"contraction + query not finished within {time_limit_s:.0f} s "
                      f"({net.n_nodes:,} nodes); stopped")
            log(f"  [{label}] pandana skipped: {reason}")
            return None, {**out, "skipped": reason}
        took, dist, fac = here.recv()
    except EOFError:
        child.join()
        reason = f"pandana ended its process (exit code {child.exitcode}) before answering"
        log(f"  [{label}] pandana skipped: {reason}")
        return None, {**out, "skipped": reason}
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
        server.close()
        return None, out
    log(f"  [{label}] pandana: contraction {out['preprocess_s']:.2f} s; answers within its integer/float32 "
        f"rounding (at most {out['tolerance_s_max']:.1e} s)")
    return server, out


def _pandana_child(  # noqa: PLR0913, PLR0917  a child process is sent plain arrays
        conn, x, y, tail, head, w, max_distance, rows, fx, fy) -> None:
    """Build pandana's network, set the POIs, query the nearest one and send back the answer; then run one
    more query for every "query" received, until "stop".
    """
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
        found = pnet.nearest_pois(max_distance, "fac", num_pois=1, include_poi_ids=True)
        conn.send((took, found[1].to_numpy(float), found["poi1"].to_numpy(float)))
        while conn.recv() == "query":
            pnet.nearest_pois(max_distance, "fac", num_pois=1, include_poi_ids=True)
            conn.send(None)
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
