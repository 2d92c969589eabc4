"""``healthreach audit``: run every standard on one study and write its outputs."""

from __future__ import annotations

import time
from pathlib import Path

import click

from healthreach.cli.app import cli, error_console
from healthreach.cli.examples import epilog
from healthreach.cli.options import cache_option, force_option, map_options, poster_option
from healthreach.messages import Message, render
from healthreach.terminal import markup


def progress_step(status, lang: str = "zh"):
    """A callback that shows the current step (in ``lang``) and the elapsed time in a rich status line."""
    start = time.perf_counter()

    def step(message: str | Message) -> None:
        status.update(f"{markup(render(message, lang))} … ({time.perf_counter() - start:.1f} s)")
    return step


def outputs_line(folder: object, files: str, seconds: float, lang: str) -> str:
    """'outputs in FOLDER (FILES) in N s' in ``lang``, as rich markup (folder in bold)."""
    return Message("outputs in {folder} ({files}) in {seconds:.1f} s", folder=f"[bold]{markup(str(folder))}[/]",
                   files=markup(files), seconds=seconds).render(lang)


@cli.command(epilog=epilog("audit"))
@click.argument("study", required=False, type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output folder [default: out/<study folder name>].")
@click.option("--no-map", is_flag=True, help="Skip the HTML map.")
@click.option("--no-cache", is_flag=True,
              help="Read every input file and rebuild the road network even if cached ones match.")
@force_option
@cache_option
@map_options
@poster_option
@click.option("--facility-isochrones", is_flag=True,
              help="Also draw each primary-care facility's own 5/10/15/30-minute areas, with their people, in "
                   "isochrones.gpkg (layer facility_isochrones; a few seconds on a county).")
def audit(  # noqa: PLR0913  one argument per click option
          study: Path | None, *, out_dir: Path | None, no_map: bool, no_cache: bool, force: bool, cache: Path | None,
          lang: str, offline: bool, basemap: str | None, tianditu_key: str | None, poster: str | None,
          facility_isochrones: bool) -> None:
    """Audit STUDY (a study.yaml or its folder; default: the bundled synthetic demo county)."""
    from rich.console import Console  # rich loads when a command prints

    from healthreach.api import open_study
    from healthreach.outputs import check_output, study_input_paths
    from healthreach.report import print_summary, write_outputs
    from healthreach.study import load_study

    start = time.perf_counter()
    with error_console().status(Message("reading the study file").render(lang)) as status:
        spec = load_study(study)
        out_dir = check_output(out_dir or Path("out") / spec.folder.name, study_input_paths(spec), force=force,
                               name=spec.folder.name)
        opened = open_study(spec, cache=cache, rebuild_network=no_cache, offline=offline,
                            progress=progress_step(status, lang))
        status.update(Message("computing travel times and standards").render(lang))
        result = opened.baseline()
        html = None
        if not no_map:
            status.update(Message("drawing the map").render(lang))
            from healthreach.maps.audit import audit_map  # folium and branca only when a map is drawn
            from healthreach.maps.base import render_html

            html = render_html(audit_map(result, lang=lang, basemap=basemap, offline=offline,
                                         tianditu_key=tianditu_key))
        files = None
        if poster:
            from healthreach.poster.poster import audit_poster
            status.update(Message("drawing the {page} poster", page=poster.upper()).render(lang))
            files = audit_poster(result, poster, lang=lang).files()
        status.update(Message("writing outputs").render(lang))
        paths = write_outputs(result, out_dir, html, force=force, files=files, lang=lang,
                              facility_isochrones=facility_isochrones)
    print_summary(result, Console(), lang)
    done = outputs_line(out_dir, ", ".join(p.name for p in paths.values()), time.perf_counter() - start, lang)
    error_console().print(done, soft_wrap=True)
