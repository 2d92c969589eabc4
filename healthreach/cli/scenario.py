"""``healthreach scenario`` and ``healthreach compare``: evaluate planned changes against the baseline."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from healthreach.cli.app import cli, error_console
from healthreach.cli.audit import outputs_line, progress_step
from healthreach.cli.examples import epilog
from healthreach.cli.options import cache_option, force_option, lang_option, map_options, poster_option
from healthreach.i18n import group_name, t
from healthreach.messages import Message
from healthreach.terminal import markup

if TYPE_CHECKING:
    from rich.console import Console


def _missing(value) -> bool:
    import pandas as pd  # loaded by then: the tables printed are pandas'

    return value is None or bool(pd.isna(value))


def _pct(value) -> str:
    return "n/a" if _missing(value) else f"{value:.1%}"


def _signed_pp(value) -> str:
    if _missing(value):
        return ""
    points = 100 * value
    colour = "green" if points > 0.05 else "red" if points < -0.05 else "white"
    return f"[{colour}]{points:+.1f} pp[/]"


def _prepare(paths: list[Path], status, no_cache: bool, cache: Path | None, check_out=None,
             offline: bool = False, lang: str = "zh"):
    """Read scenarios, check them against their study's facility table, open the study, evaluate its baseline
    (the status line in ``lang``).

    ``check_out(scenarios, study)`` is called once the files are known, before any computation.
    """
    from healthreach.api import open_study
    from healthreach.load.facilities import read_facilities
    from healthreach.profile import load_profile
    from healthreach.scenario.checks import check, check_changes
    from healthreach.scenario.compare import baseline_for
    from healthreach.scenario.schema import load_scenario

    scenarios = [load_scenario(p) for p in paths]
    study = baseline_for(scenarios)
    if check_out is not None:
        check_out(scenarios, study)
    # ids, types and contradictions first: they need only the facility table, not the network
    # (an OpenStreetMap extract is read once, for the study area, by open_study)
    if not study.facilities.path.name.lower().endswith((".pbf", ".osm")):
        table = read_facilities(study.facilities, "EPSG:4326")
        profile = load_profile(study.profile, study)
        for s in scenarios:
            check_changes(s, table, profile, study.facilities.path.name, study.facilities.type_map)
    opened = open_study(study, cache=cache, rebuild_network=no_cache, offline=offline,
                        progress=progress_step(status, lang))
    for s in scenarios:
        check(s, opened.inputs)  # sites: study area, roads, swapped coordinates, before any evaluation
    status.update(Message("computing the baseline").render(lang))
    return scenarios, opened.baseline()


def print_result(result, out: Console, lang: str = "zh") -> None:
    """Terminal tables in ``lang``: standards before/after, coverage gained/lost, facilities that changed."""
    from rich.table import Table  # rich loads when a command prints

    from healthreach.labels import say, standard_titles

    s = result.scenario
    english = {fid: f.title for fid, f in result.after.figures.items()}
    titles = standard_titles(result.after.study.standards, english, lang)
    table = Table(title=markup(say("scenario_title", lang, name=s.name, n=len(s.changes),
                                   study=result.after.inputs.study.name)))
    table.add_column(say("standard", lang), overflow="fold")
    for col in ("baseline_short", "scenario", "change", "gained", "lost", "pass"):
        table.add_column(say(col, lang), justify="right", no_wrap=True)
    for _, row in result.standards.iterrows():
        if row["unit"] == "share of people":
            values = (_pct(row["baseline"]), _pct(row["scenario"]), _signed_pp(row["change"]))
        else:
            b, a, c = row["baseline"], row["scenario"], row["change"]
            values = ("" if _missing(b) else f"{b:,.2f}", "" if _missing(a) else f"{a:,.2f}",
                      "" if _missing(c) else f"{c:+,.2f}")
        people = tuple("" if _missing(v) else f"{v:,.0f}"
                       for v in (row.get("newly_covered_people"), row.get("lose_coverage_people")))
        marks = {True: "[green]✓[/]", False: "[red]✗[/]"}
        passed = ""
        if "baseline_pass" in row and row["baseline_pass"] in (True, False):
            passed = f"{marks[row['baseline_pass']]} → {marks.get(row['scenario_pass'], '–')}"
        sid = str(row["standard"])
        name = sid if lang == "en" else titles.get(sid, _detail_title(sid, titles))
        table.add_row(markup(name), *values, *people, passed)
    out.print(table)
    out.print(say("scenario_note", lang))
    circle = result.after.study.primary
    if circle is not None:
        out.print(t("circle_moves", lang, minutes=f"{circle.spec.threshold_min:g}",
                    gained=f"[green]{result.newly_covered:,.0f}[/]", lost=f"[red]{result.lose_coverage:,.0f}[/]")
                  + say("population_unchanged", lang, people=f"{result.after.inputs.total_people:,.0f}"))
        for group, people in result.after.inputs.cells.groups.items():
            gained, lost = result.newly_covered_of(group), result.lose_coverage_of(group)
            out.print("  " + t("group_moves", lang, group=group_name(group, lang), gained=f"[green]{gained:,.0f}[/]",
                               lost=f"[red]{lost:,.0f}[/]")
                      + say("group_population", lang, people=f"{float(people.sum()):,.0f}"))
    fac = result.facilities
    # people per facility among its own tier (a village clinic does not take a township centre's people), when the
    # profile has tiers; else the nearest primary-care facility of any kind
    tiered = "tier_catchment_people_change" in fac
    c = "tier_catchment_people" if tiered else "catchment_people"
    shown = fac[(fac["status"] != "") | (fac[f"{c}_change"].abs() >= 1)]
    if len(shown):
        ft = Table(title=say("catchments_tier_title" if tiered else "catchments_title", lang))
        for col in ("id", "name", "status", "before", "after", "change"):
            ft.add_column(say(f"catchment_{col}", lang), justify="right" if col in ("before", "after", "change")
                          else "left")
        shown = shown.reindex(shown[f"{c}_change"].abs().sort_values(ascending=False).index)
        for _, row in shown.head(15).iterrows():
            ft.add_row(markup(str(row["id"])), markup(str(row["name"])), str(row["status"]).replace("+", ", "),
                       *("" if _missing(v) else f"{v:,.0f}" for v in (row[f"{c}_before"], row[f"{c}_after"])),
                       "" if _missing(row[f"{c}_change"]) else f"{row[f'{c}_change']:+,.0f}")
        out.print(ft)


def _detail_title(sid: str, titles: dict[str, str]) -> str:
    """A detail row's name in Chinese: '<standard>.mean_response_min' -> '<title>：平均反应时间（分钟）'."""
    standard, _, key = sid.partition(".")
    words = {"mean_response_min": "平均反应时间（分钟）", "ambulances": "救护车（辆）",
             "by_catchment_per_1000": "按服务人口（每千人）", "capacity_people": "可服务人数（人）",
             "beyond_reach_people": "无可达机构人数（人）"}
    return f"{titles[standard]}：{words[key]}" if standard in titles and key in words else sid


@cli.command(epilog=epilog("scenario"))
@click.argument("scenario_file", metavar="SCENARIO.yaml", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output folder [default: out/scenarios/<scenario file name>].")
@click.option("--no-map", is_flag=True, help="Skip the HTML map.")
@click.option("--full", is_flag=True, help="Recompute every travel surface instead of updating the baseline's.")
@click.option("--no-cache", is_flag=True,
              help="Read every input file and rebuild the road network even if cached ones match.")
@force_option
@cache_option
@map_options
@poster_option
def scenario(  # noqa: PLR0913  one argument per click option
             scenario_file: Path, *, out_dir: Path | None, no_map: bool, full: bool, no_cache: bool, force: bool,
             cache: Path | None, lang: str, offline: bool, basemap: str | None, tianditu_key: str | None,
             poster: str | None) -> None:
    """Evaluate SCENARIO.yaml against its base study: before, after, who gains and who loses."""
    from rich.console import Console  # rich loads when a command prints

    from healthreach.outputs import check_output
    from healthreach.scenario.outputs import input_paths, write_outputs

    start = time.perf_counter()
    target = out_dir or Path("out") / "scenarios" / scenario_file.stem

    def check_out(scenarios, study) -> None:
        nonlocal target
        target = check_output(target, input_paths(scenarios[0], study), force=force,
                              name=f"scenarios/{scenario_file.stem}")

    with error_console().status(Message("reading the scenario").render(lang)) as status:
        (spec,), base = _prepare([scenario_file], status, no_cache, cache, check_out, offline, lang)
        status.update(Message("evaluating the scenario").render(lang))
        result = base.diff(base.apply(spec, incremental=not full))
        html = None
        if not no_map:
            status.update(Message("drawing the map").render(lang))
            from healthreach.maps.base import render_html  # folium and branca only when a map is drawn
            from healthreach.maps.scenario import scenario_map

            html = render_html(scenario_map(result, lang=lang, basemap=basemap, offline=offline,
                                            tianditu_key=tianditu_key))
        files = None
        if poster:
            from healthreach.poster.poster import scenario_poster
            status.update(Message("drawing the {page} poster", page=poster.upper()).render(lang))
            files = scenario_poster(result, poster, lang=lang).files()
        status.update(Message("writing outputs").render(lang))
        paths = write_outputs(result, target, html, force=force, files=files, lang=lang)
    print_result(result, Console(), lang)
    took = result.after.seconds
    written = ", ".join(p.name for p in paths.values())
    how = Message("from scratch") if full else Message("updated from the cells that changed")
    timing = Message(" (baseline {baseline_s:.2f} s; scenario {how}: {scenario_ms:.0f} ms)",
                     baseline_s=base.seconds["travel"], how=how, scenario_ms=1000 * sum(took.values()))
    error_console().print(outputs_line(target, written, time.perf_counter() - start, lang) + timing.render(lang))


@cli.command(epilog=epilog("compare"))
@click.argument("scenario_files", metavar="A.yaml B.yaml ...", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("--by", default=None,
              help="The standard to rank by, highest share first: its id or its Chinese or English title "
                   "[default: the profile's first circle standard].")
@click.option("--out", "out_file", type=click.Path(path_type=Path), default=None,
              help="CSV file for the table [default: out/scenarios/compare.csv].")
@click.option("--no-cache", is_flag=True,
              help="Read every input file and rebuild the road network even if cached ones match.")
@cache_option
@lang_option
def compare(scenario_files: tuple[Path, ...], by: str | None, out_file: Path | None, no_cache: bool,
            cache: Path | None, lang: str) -> None:
    """Put several scenarios of one study side by side, ranked by one standard."""
    from rich.console import Console  # rich loads when a command prints

    from healthreach.cli.comparison import print_comparison
    from healthreach.outputs import check_output, write_atomic, write_csv
    from healthreach.scenario.compare import check_distinct, check_standard, compare_table
    from healthreach.scenario.outputs import input_paths

    check_distinct(list(scenario_files))
    target = out_file or Path("out") / "scenarios" / "compare.csv"

    def check_out(scenarios, study) -> None:
        nonlocal target
        sources = [p for s in scenarios for p in input_paths(s, study)]
        target = check_output(target, sources, name="scenarios", file=True)

    with error_console().status(Message("reading the scenarios").render(lang)) as status:
        scenarios, base = _prepare(list(scenario_files), status, no_cache, cache, check_out, lang=lang)
        by = check_standard(by or (base.study.primary.id if base.study.primary else next(iter(base.figures))), base,
                            lang)
        results = []
        for s in scenarios:
            status.update(Message("evaluating {name}", name=markup(s.name)).render(lang))
            results.append(base.diff(base.apply(s)))
        table = compare_table(results, by)
        write_atomic(target, lambda tmp: write_csv(table, tmp))
    print_comparison(table, base, by, lang, Console())
    written = Message("table (every standard) in {file}", file=f"[bold]{markup(str(target))}[/]")
    error_console().print(written.render(lang))
