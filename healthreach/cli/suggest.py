"""``healthreach suggest``: where new facilities of a type bring the most people within a standard."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from healthreach.cli.app import cli, console
from healthreach.cli.options import cache_option, force_option, map_options
from healthreach.outputs import markup


@cli.command()
@click.argument("study", required=False, type=click.Path(path_type=Path))
@click.option("--type", "type_", required=True, metavar="TYPE",
              help="Facility type of the new sites: a type id (township_hc) or its Chinese name (乡镇卫生院).")
@click.option("--count", type=int, required=True, help="How many new sites to suggest (1 or more).")
@click.option("--standard", default=None,
              help="The travel-time standard to raise (a circle or drive_time standard) "
                   "[default: the profile's first circle, e.g. primary_care_15min].")
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
@click.option("--no-cache", is_flag=True, help="Rebuild the road network even if a cached one matches.")
@force_option
@cache_option
@map_options
def suggest(  # noqa: PLR0913  one argument per click option
            study: Path | None, *, type_: str, count: int, standard: str | None, candidates: str,
            candidates_crs: str, spacing_m: float, exclude: tuple[Path, ...], min_spacing_m: float, method: str,
            time_limit_s: float, max_road_m: float, out_dir: Path | None, no_map: bool, no_cache: bool,
            force: bool, cache: Path | None, lang: str, offline: bool, basemap: str | None,
            tianditu_key: str | None) -> None:
    """Suggest sites for COUNT new facilities of TYPE in STUDY (default: the bundled demo county), today's kept.

    \b
    Examples:
      healthreach suggest --type township_hc --count 5
      healthreach suggest --type 乡镇卫生院 --count 5 --method exact --exclude water.gpkg
      healthreach suggest my-county/ --type community_hc --count 3 --candidates sites.csv --candidates-crs gcj02
    """  # noqa: D301  click's \b keeps the examples' lines as written
    from healthreach.api import open_study
    from healthreach.cli.audit import progress_step
    from healthreach.errors import SuggestError
    from healthreach.outputs import check_output, study_input_paths
    from healthreach.study import load_study
    from healthreach.suggest import suggest as run
    from healthreach.suggest.map import suggestion_html
    from healthreach.suggest.outputs import write_outputs

    start = time.perf_counter()
    if count <= 0:
        msg = f"--count must be 1 or more sites; got {count}"
        raise SuggestError(msg)
    source = None if candidates == "auto" else Path(candidates)
    for path in [*([source] if source else []), *exclude]:
        if not path.is_file():
            msg = f"{path}: no such file (given to {'--candidates' if path == source else '--exclude'})"
            raise SuggestError(msg)
    with console.status("reading the study file") as status:
        spec = load_study(study)
        inputs = [*study_input_paths(spec), *([source] if source else []), *exclude]
        target = check_output(out_dir or Path("out") / "suggest" / f"{spec.folder.name}-{type_}", inputs, force=force,
                              name=f"suggest/{spec.folder.name}-{type_}")
        opened = open_study(spec, cache=cache, rebuild_network=no_cache, offline=offline,
                            progress=progress_step(status))
        result = run(opened, type_, count, standard=standard, candidates=source or "auto",
                     candidates_crs=candidates_crs, spacing_m=spacing_m, exclude=list(exclude),
                     min_spacing_m=min_spacing_m, method=method, time_limit_s=time_limit_s, max_road_m=max_road_m,
                     progress=progress_step(status))
        html = None
        if not no_map:
            status.update("drawing the map")
            html = suggestion_html(result, lang=lang, basemap=basemap, offline=offline, tianditu_key=tianditu_key)
        status.update("writing outputs")
        paths = write_outputs(result, target, inputs, html, force=force)
    print_result(result, Console())
    console.print(f"outputs in [bold]{markup(str(target))}[/] ({markup(', '.join(paths))}) in "
                  f"{time.perf_counter() - start:.1f} s; check them with: healthreach scenario "
                  f"{markup(str(target / 'scenario.yaml'))}", soft_wrap=True)


def print_result(result, out: Console) -> None:
    """The ranked sites, the figure before and after, and the exact searches' bounds."""
    before, after = result.base.figures[result.standard], result.after.figures[result.standard]
    table = Table(title=markup(f"{len(result.sites)} new {result.type} for {result.standard} ({result.method})"))
    for col in ("#", "id", "candidate", "lon", "lat", "township", "newly covered", "share after", "runner-ups"):
        table.add_column(col, justify="right" if col in ("#", "lon", "lat", "newly covered", "share after") else
                         "left", overflow="fold")
    for _, row in result.sites.iterrows():
        table.add_row(str(row["rank"]), markup(str(row["id"])), markup(str(row["candidate"])), f"{row['lon']:.6f}",
                      f"{row['lat']:.6f}", markup(str(row["township"])), f"{row['people_newly_covered']:,.0f}",
                      f"{row['share_after']:.2%}", markup(str(row["runner_ups"])))
    out.print(table)
    for note in result.notes:
        out.print(f"candidates: {markup(note)}")
    out.print(f"{result.standard}: {before.share:.2%} -> {after.share:.2%} "
              f"({result.newly_covered:,.0f} people newly covered; scenario engine: "
              f"{(after.covered or 0) - (before.covered or 0):,.0f})")
    last = result.curve.iloc[-1] if len(result.curve) else None
    if last is not None:
        out.print(f"upper bound for {int(last['sites'])} site(s): {last['upper_bound_people']:,.0f} people; "
                  f"greedy is within {100 * last['greedy_gap']:.2f} % of it")
    for k, e in sorted(result.exact.items(), reverse=True):
        out.print(f"exact, {k} site(s): {e.people:,.0f} people, {markup(e.status)}; bound {e.bound:,.0f} "
                  f"(LP {e.lp_bound:,.0f}), gap {100 * e.gap:.2f} %, {e.seconds:.1f} s")
