"""``healthreach audit``: run every standard on one study and write its outputs."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.console import Console

from healthreach.cli.app import cli, console
from healthreach.cli.examples import epilog
from healthreach.cli.options import cache_option, force_option, map_options, poster_option
from healthreach.outputs import markup


def progress_step(status):
    """A callback that shows the current step and the elapsed time in a rich status line."""
    start = time.perf_counter()

    def step(message: str) -> None:
        status.update(f"{markup(message)} … ({time.perf_counter() - start:.1f} s)")
    return step


@cli.command(epilog=epilog("audit"))
@click.argument("study", required=False, type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output folder [default: out/<study folder name>].")
@click.option("--no-map", is_flag=True, help="Skip the HTML map.")
@click.option("--no-cache", is_flag=True, help="Rebuild the road network even if a cached one matches.")
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
    from healthreach.api import open_study
    from healthreach.outputs import check_output, study_input_paths
    from healthreach.report import print_summary, write_outputs
    from healthreach.study import load_study

    start = time.perf_counter()
    with console.status("reading the study file") as status:
        spec = load_study(study)
        out_dir = check_output(out_dir or Path("out") / spec.folder.name, study_input_paths(spec), force=force,
                               name=spec.folder.name)
        opened = open_study(spec, cache=cache, rebuild_network=no_cache, offline=offline,
                            progress=progress_step(status))
        status.update("computing travel times and standards")
        result = opened.baseline()
        html = None
        if not no_map:
            status.update("drawing the map")
            from healthreach.maps.audit import audit_map  # folium and branca only when a map is drawn
            from healthreach.maps.base import render_html

            html = render_html(audit_map(result, lang=lang, basemap=basemap, offline=offline,
                                         tianditu_key=tianditu_key))
        files = None
        if poster:
            from healthreach.poster.poster import audit_poster
            status.update(f"drawing the {poster.upper()} poster")
            files = audit_poster(result, poster, lang=lang).files()
        status.update("writing outputs")
        paths = write_outputs(result, out_dir, html, force=force, files=files, lang=lang,
                              facility_isochrones=facility_isochrones)
    print_summary(result, Console(), lang)
    console.print(f"outputs in [bold]{markup(out_dir)}[/] ({markup(', '.join(p.name for p in paths.values()))}) "
                  f"in {time.perf_counter() - start:.1f} s", soft_wrap=True)
