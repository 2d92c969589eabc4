"""``healthreach suggest``: where new facilities of a type bring the most people within a standard."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from healthreach.cli.app import cli, error_console
from healthreach.cli.options import cache_option, force_option, map_options
from healthreach.terminal import markup

OPTIONAL_SITE_COLUMNS = ("candidate", "lon", "lat", "runner_ups")  # shown, in this order, while they fit
RUNNER_UPS_MIN_WIDTH = 16  # cells: narrower, the runner-ups column is left out

if TYPE_CHECKING:
    from rich.console import Console


@cli.command()
@click.argument("study", required=False, type=click.Path(path_type=Path))
@click.option("--type", "type_", required=True, metavar="TYPE",
              help="Facility type of the new sites: a type id (township_hc) or its Chinese name (乡镇卫生院).")
@click.option("--count", type=int, required=True, help="How many new sites to suggest (1 or more).")
@click.option("--standard", default=None,
              help="The travel-time standard to raise (a circle or drive_time standard) "
                   "[default: the profile's first circle, e.g. primary_care_15min].")
@click.option("--tier", default=None, metavar="TIER",
              help="Instead of --standard: a tier of the profile's tiers standard (e.g. township): people newly "
                   "within --tier-min minutes of a facility of the tier, by the tier's modes.")
@click.option("--tier-min", type=float, default=None,
              help="The time limit of a --tier search, minutes [default: the profile's first circle's, e.g. 15].")
@click.option("--group", default=None, metavar="GROUP",
              help="Count the people of this population group of the study (e.g. 65plus) instead of everyone's; "
                   "everyone's gains are reported beside them.")
@click.option("--candidates", default="auto", show_default=True, metavar="auto|FILE",
              help="auto: road sites on a grid inside the study area; or a CSV/XLSX (lon, lat or x, y; optional id, "
                   "name) or GIS point layer of candidate sites.")
@click.option("--candidates-crs", default="wgs84", show_default=True,
              help="Coordinate system of a candidate table: wgs84, gcj02 (Amap), bd09 (Baidu), cgcs2000 or EPSG:xxxx.")
@click.option("--spacing-m", type=float, default=1000.0, show_default=True,
              help="Grid spacing of automatic candidates, metres.")
@click.option("--exclude", "exclude", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A polygon layer (water, protected land, steep slopes) no new site may stand in; repeatable.")
@click.option("--min-spacing-m", type=float, default=1000.0, show_default=True,
              help="No candidate closer than this (metres) to an existing facility of the type.")
@click.option("--method", type=click.Choice(["greedy", "exact"]), default="greedy", show_default=True,
              help="greedy: one best site per round; exact: the proven best set (maximal covering MILP, HiGHS).")
@click.option("--time-limit-s", type=float, default=60.0, show_default=True,
              help="Time for the exact searches, seconds (all of them together).")
@click.option("--max-road-m", type=float, default=1000.0, show_default=True,
              help="The farthest a candidate may lie from a road, metres (as a scenario's max_road_m).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output folder [default: out/suggest/<study folder name>-<type>].")
@click.option("--no-map", is_flag=True, help="Skip the HTML map.")
@click.option("--no-cache", is_flag=True,
              help="Read every input file and rebuild the road network even if cached ones match.")
@force_option
@cache_option
@map_options
def suggest(  # noqa: PLR0913  one argument per click option
            study: Path | None, *, type_: str, count: int, standard: str | None, tier: str | None,
            tier_min: float | None, group: str | None, candidates: str,
            candidates_crs: str, spacing_m: float, exclude: tuple[Path, ...], min_spacing_m: float, method: str,
            time_limit_s: float, max_road_m: float, out_dir: Path | None, no_map: bool, no_cache: bool,
            force: bool, cache: Path | None, lang: str, offline: bool, basemap: str | None,
            tianditu_key: str | None) -> None:
    """Suggest sites for COUNT new facilities of TYPE in STUDY (default: the bundled demo county), today's kept.

    \b
    Examples:
      healthreach suggest --type township_hc --count 5
      healthreach suggest --type 乡镇卫生院 --count 5 --method exact --exclude water.gpkg
      healthreach suggest --type township_hc --count 3 --group 65plus --tier township
      healthreach suggest my-county/ --type community_hc --count 3 --candidates sites.csv --candidates-crs gcj02
    """  # noqa: D301  click's \b keeps the examples' lines as written
    from rich.console import Console  # rich loads when a command prints

    from healthreach.api import open_study
    from healthreach.cli.audit import progress_step
    from healthreach.errors import SuggestError
    from healthreach.messages import Message, render
    from healthreach.outputs import check_output, study_input_paths
    from healthreach.study import load_study
    from healthreach.suggest import suggest as run
    from healthreach.suggest.map import suggestion_html
    from healthreach.suggest.outputs import write_outputs

    start = time.perf_counter()
    if count <= 0:
        msg = Message("--count must be 1 or more sites; got {count}", count=count)
        raise SuggestError(msg)
    source = None if candidates == "auto" else Path(candidates)
    for path in [*([source] if source else []), *exclude]:
        if not path.is_file():
            msg = Message("{path}: no such file (given to {option})", path=path,
                          option="--candidates" if path == source else "--exclude")
            raise SuggestError(msg)
    with error_console().status(render(Message("reading the study file and the candidate sites"), lang)) as status:
        spec = load_study(study)
        inputs = [*study_input_paths(spec), *([source] if source else []), *exclude]
        target = check_output(out_dir or Path("out") / "suggest" / f"{spec.folder.name}-{type_}", inputs, force=force,
                              name=f"suggest/{spec.folder.name}-{type_}")
        opened = open_study(spec, cache=cache, rebuild_network=no_cache, offline=offline,
                            progress=progress_step(status))
        step = progress_step(status)
        result = run(opened, type_, count, standard=standard, tier=tier, tier_min=tier_min, group=group,
                     candidates=source or "auto",
                     candidates_crs=candidates_crs, spacing_m=spacing_m, exclude=list(exclude),
                     min_spacing_m=min_spacing_m, method=method, time_limit_s=time_limit_s, max_road_m=max_road_m,
                     progress=lambda message: step(render(message, lang)))
        html = None
        if not no_map:
            status.update(render(Message("drawing the map of the suggested sites"), lang))
            html = suggestion_html(result, lang=lang, basemap=basemap, offline=offline, tianditu_key=tianditu_key)
        status.update(render(Message("writing the suggested sites"), lang))
        paths = write_outputs(result, target, inputs, html, force=force)
    print_result(result, Console(), lang)
    error_console().print(markup(render(Message(
        "outputs in {folder} ({files}) in {seconds:.1f} s; check them with: healthreach scenario {scenario}",
        folder=str(target), files=", ".join(paths), seconds=time.perf_counter() - start,
        scenario=str(target / "scenario.yaml")), lang)), soft_wrap=True)


def print_result(result, out: Console, lang: str = "en") -> None:
    """The ranked sites, the figure before and after (everyone's, and the group's), the exact searches' bounds.

    Names and runner-up lists wrap; figures and coordinates are never cut. On a narrow terminal the
    candidate, coordinates and runner-ups are left out (sites.csv has them) rather than squeezed.
    """
    from rich.cells import cell_len
    from rich.table import Table  # rich loads when a command prints

    from healthreach.cli.comparison import COLUMN_COST, HEADER_MIN_WIDTH, fold
    from healthreach.i18n import group_name, tier_words, type_name
    from healthreach.labels import say, standard_titles
    from healthreach.messages import Message, render

    objective = result.objective
    group = objective.population_group
    counted = result.column("people_newly_covered")
    figures = result.base.figures
    titles = standard_titles(result.base.study.standards, {fid: f.title for fid, f in figures.items()}, lang)
    figure_id = objective.group_figure or objective.id
    title = Message("{n} new {type} for {objective} ({method})", n=len(result.sites), type=type_name(result.type, lang),
                    objective=titles.get(figure_id, figure_id), method=say(f"method_{result.method}", lang))
    sites = result.sites
    columns: dict[str, tuple[str, list[str], bool]] = {  # key -> header, cells, is a figure (never wrapped)
        "site_rank": (say("site_rank", lang), [str(r) for r in sites["rank"]], True),
        "site_id": (say("site_id", lang), [str(i) for i in sites["id"]], False),
        "candidate": (say("candidate", lang), [str(c) for c in sites["candidate"]], False),
        "lon": (say("lon", lang), [f"{v:.6f}" for v in sites["lon"]], True),
        "lat": (say("lat", lang), [f"{v:.6f}" for v in sites["lat"]], True),
        "township": (say("township", lang), [str(t) for t in sites["township"]], False),
        "newly_covered": (say("newly_covered", lang), [f"{v:,.0f}" for v in sites["people_newly_covered"]], True),
        **({"group": (say("newly_covered_of", lang, group=group_name(group, lang)),
                      [f"{v:,.0f}" for v in sites[counted]], True)} if group else {}),
        "share_after": (say("share_after", lang), [f"{v:.2%}" for v in sites["share_after"]], True),
        "runner_ups": (say("runner_ups", lang), [str(r) for r in sites["runner_ups"]], False),
    }
    widths = {key: max([cell_len(c) for c in cells] + [min(cell_len(header), HEADER_MIN_WIDTH)])
              for key, (header, cells, _) in columns.items()}
    # what always shows; the rest is added while it fits (sites.csv has every column)
    shown = [k for k in columns if k not in OPTIONAL_SITE_COLUMNS]
    room = out.width - 1 - sum(widths[k] + COLUMN_COST for k in shown)
    for key in OPTIONAL_SITE_COLUMNS:
        need = min(widths[key], RUNNER_UPS_MIN_WIDTH) if key == "runner_ups" else widths[key]
        if need + COLUMN_COST <= room:
            shown.append(key)
            room -= need + COLUMN_COST
    table = Table(title=markup(render(title, lang)))
    for key in (k for k in columns if k in shown):
        header, _, figure = columns[key]
        if figure:  # the figures set the width; the header folds to it
            table.add_column(markup(fold(header, widths[key])), justify="right", no_wrap=True,
                             min_width=widths[key], max_width=widths[key])
        else:
            table.add_column(markup(header), overflow="fold", ratio=1 if key == "runner_ups" else None)
    for i in range(len(sites)):
        table.add_row(*(markup(columns[k][1][i]) for k in columns if k in shown))
    out.print(table)
    for note in result.notes:
        out.print(markup(render(Message("candidates: {note}", note=note), lang)))
    for is_group in (False, True) if group else (False,):
        before, share_before = objective.covered(result.base, is_group)
        after, share_after = objective.covered(result.after, is_group)
        people = result.newly_covered_counted if is_group else result.newly_covered
        out.print(markup(render(Message(
            "{figure}: {before:.2%} -> {after:.2%} ({people:,.0f} people newly covered; scenario engine: "
            "{engine:,.0f})", figure=titles.get(shown := objective.group_figure if is_group else objective.id, shown),
            before=share_before,
            after=share_after, people=people, engine=after - before), lang)))
    if objective.tier is not None and len(result.sites):
        out.print(markup(render(Message(
            "the new sites join the {tier} tier's catchments: {people} people", tier=tier_words(objective.tier),
            people=", ".join(f"{i} {p:,.0f}" for i, p in zip(result.sites["id"], result.sites["tier_catchment_people"],
                                                            strict=True))), lang)))
    last = result.curve.iloc[-1] if len(result.curve) else None
    if last is not None:
        out.print(markup(render(Message(
            "upper bound for {k} site(s): {bound:,.0f} people; greedy is within {gap:.2f} % of it",
            k=int(last["sites"]), bound=last[result.column("upper_bound_people")], gap=100 * last["greedy_gap"]),
            lang)))
    for k, e in sorted(result.exact.items(), reverse=True):
        start = (Message("; warm-started from greedy's sites ({people:,.0f} people)", people=e.warm_start)
                 if e.warm_start is not None else "")
        out.print(markup(render(Message(
            "exact, {k} site(s): {people:,.0f} people, {status}; bound {bound:,.0f} (LP {lp:,.0f}), gap {gap:.2f} %, "
            "{seconds:.1f} s{start}", k=k, people=e.people, status=e.status, bound=e.bound, lp=e.lp_bound,
            gap=100 * e.gap, seconds=e.seconds, start=start), lang)))
