"""``healthreach batch``: audit many districts on Dask and rank them in one summary."""

from __future__ import annotations

import time
from pathlib import Path

import click

from healthreach.cli.app import cli, error_console
from healthreach.cli.examples import epilog
from healthreach.cli.options import cache_option, map_options
from healthreach.messages import Message
from healthreach.terminal import markup

STRICT_EXIT = 3  # with --strict: a district fails a standard, or a study failed (1 is an input error)


@cli.command(epilog=epilog("batch"))
@click.argument("studies", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--workers", "-w", type=click.IntRange(min=1), default=None,
              help="Worker processes of the local Dask cluster [default: one per CPU, at most one per study].")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="Run on an existing Dask scheduler (e.g. tcp://10.0.0.5:8786) instead of a local cluster.")
@click.option("--scheduler-timeout", "scheduler_timeout_s", type=click.FloatRange(min=0, min_open=True),
              default=15.0, show_default=True, metavar="SECONDS",
              help="How long to wait for the scheduler to accept the connection and answer.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("out/batch"),
              show_default=True, help="Batch folder: one sub-folder per study plus the combined summary.")
@click.option("--strict", is_flag=True,
              help=f"Exit with code {STRICT_EXIT} when any district fails any standard or any study fails.")
@click.option("--force", is_flag=True,
              help="Redo every study, even those unchanged since their last result; also write into a non-empty "
                   "output folder that healthreach did not create.")
@click.option("--no-map", is_flag=True, help="Skip each study's HTML map (the combined map is still drawn).")
@click.option("--no-cache", is_flag=True,
              help="Read every input file and rebuild road networks even if cached ones match.")
@click.option("--memory-limit", default="auto", show_default=True,
              help="Memory per local worker (e.g. 4GB); 'auto' divides the machine's memory among workers.")
@cache_option
@map_options
@click.pass_context
def batch(  # noqa: PLR0913  one argument per click option
          ctx: click.Context, *, studies: tuple[Path, ...], workers: int | None, scheduler: str | None,
          scheduler_timeout_s: float, out_dir: Path, strict: bool, force: bool, no_map: bool, no_cache: bool,
          memory_limit: str, cache: Path | None, lang: str, offline: bool, basemap: str | None,
          tianditu_key: str | None) -> None:
    """Audit every study in STUDIES on Dask and write a ranked summary of all districts.

    STUDIES are study files, folders (their study.yaml, or every study.yaml and
    *.study.yaml below them) or CSV/XLSX tables with a 'study' column. Studies
    whose inputs and settings are unchanged since their last successful result
    are reused, so an interrupted batch resumes where it stopped. A path that
    does not exist becomes a failed study in the summary.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from healthreach.batch import MapOptions, discover_studies, run_batch
    from healthreach.labels import say

    note = f"[yellow]{say('note', lang)}[/]"
    if scheduler and workers:
        ignored = Message("--workers is ignored with --scheduler (the cluster has its own workers)")
        error_console().print(note + ignored.render(lang))
    start = time.perf_counter()
    refs = discover_studies(studies)
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn(Message("{reused} reused · {failed} failed", reused="{task.fields[reused]}",
                                           failed="[red]{task.fields[failed]}[/]").render(lang)),
                        TimeElapsedColumn(), console=error_console())
    task = progress.add_task(Message("auditing").render(lang), total=len(refs), failed=0, reused=0)
    counts = {"error": 0, "reused": 0}

    def started(client) -> None:
        where = markup(scheduler) if scheduler else Message("a local cluster")
        link = getattr(client, "dashboard_link", None)
        n = len(client.nthreads())
        dashboard = Message("; dashboard {link}", link=markup(link)) if link else ""
        progress.console.print(Message("{n} studies on {where} ({workers} workers){dashboard}", n=len(refs),
                                       where=where, workers=n, dashboard=dashboard).render(lang), highlight=False)
        if n == 0:
            progress.console.print(note + Message("the scheduler has no workers yet; studies wait until one joins")
                                   .render(lang))

    def finished(row: dict, _done: int, _total: int) -> None:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
        if row["status"] == "error":
            first = (row.get("message") or "").splitlines()[0] if row.get("message") else ""
            progress.console.print(Message("[red]error[/] {folder}: {problem}", folder=markup(row["folder"]),
                                           problem=markup(first)).render(lang), highlight=False)
        progress.update(task, advance=1, failed=counts["error"], reused=counts["reused"])

    with progress:
        result = run_batch(refs, out_dir, workers=workers, scheduler=scheduler, draw_map=not no_map,
                           map_options=MapOptions(lang, basemap, offline, tianditu_key), force=force,
                           use_cache=not no_cache, cache=cache, memory_limit=memory_limit, on_start=started,
                           on_result=finished,
                           sources=[p for p in studies if p.is_file()], scheduler_timeout_s=scheduler_timeout_s)
    _print_ranking(result.table, lang)
    summary = Message("{n} studies: {audited} audited, {reused} reused (unchanged), {failed} failed; {failing} of "
                      "{districts} districts fail at least one standard. Summary in {folder} ({files}) in "
                      "{seconds:.1f} s", n=len(refs), audited=counts.get("ok", 0), reused=counts["reused"],
                      failed=counts["error"], failing=len(result.failing), districts=len(refs) - counts["error"],
                      folder=f"[bold]{markup(str(out_dir))}[/]", files=", ".join(p.name for p in result.paths.values()),
                      seconds=time.perf_counter() - start)
    error_console().print(summary.render(lang))
    if strict and (result.errors or result.failing):
        ctx.exit(STRICT_EXIT)


def _print_ranking(table, lang: str = "zh", limit: int = 30) -> None:
    """The summary's first rows in ``lang``: district, primary-care share, largest gap, failed standards."""
    import pandas as pd
    from rich.console import Console  # rich loads when a command prints
    from rich.table import Table  # rich loads when a command prints

    from healthreach.labels import say

    out = Console()
    view = Table(title=say("ranking_title", lang))
    for col in ("#", "district", "people", "circle_share", "largest_gap", "fails", "worst_township"):
        view.add_column(say(col, lang) if col != "#" else col,
                        justify="left" if col in ("district", "largest_gap", "worst_township") else "right")
    for _, row in table.head(limit).iterrows():
        if row["status"] == "error":
            view.add_row("", markup(str(row["district"])), "", "", f"[red]{say('study_failed', lang)}[/]", "", "")
            continue
        share = row.get("primary_care_15min_share")
        gap = row["largest_gap"]
        fails = len([s for s in row["failed_standards"].split(", ") if s])
        view.add_row(str(row["rank"]), markup(str(row["district"])), f"{row['population']:,.0f}",
                     "" if pd.isna(share) else f"{share:.1%}",
                     "" if pd.isna(gap) else markup(f"{100 * gap:+.1f} pts {row['largest_gap_standard']}"),
                     f"[red]{fails}[/]" if fails else "[green]0[/]",
                     markup(str(row["worst_townships"]).split("; ")[0]))
    if len(table) > limit:
        view.caption = say("ranking_more", lang, n=len(table) - limit)
    out.print(view)
    for _, row in table[table["status"] == "error"].iterrows():
        out.print(f"[red]{say('failed', lang)}:[/] {markup(str(row['folder']))}: {markup(str(row['message']))}",
                  highlight=False)
