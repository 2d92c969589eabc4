"""Options shared by several commands, declared once."""

from __future__ import annotations

from pathlib import Path

import click

LANG_KEY = "healthreach.lang"  # where --lang is kept in ``click.Context.meta``

BASEMAPS = ["osm", "none", "tianditu", "amap"]


def map_options(command):
    """Add ``--lang``, ``--offline``, ``--basemap`` and ``--tianditu-key`` to a command."""
    options = [
        click.option("--offline", is_flag=True,
                     help="Maps that render with no network: no tile basemap (unless --basemap names one), "
                          "and each page is checked to fetch nothing."),
        click.option("--basemap", type=click.Choice(BASEMAPS), default=None,
                     help="Tiles under the maps [default: osm, or none with --offline]. amap tiles are in "
                          "GCJ-02: the overlays are shifted to match."),
        click.option("--tianditu-key", envvar="TIANDITU_KEY", default=None, metavar="KEY",
                     help="Tianditu key for --basemap tianditu [env: TIANDITU_KEY]."),
    ]
    for option in reversed(options):
        command = option(command)
    return lang_option(command)


def lang_option(command, help_text: str = "Language of the terminal tables and messages, the spreadsheets' header "
                                         "rows and the maps' titles, legends, layer names and popups."):
    """Add ``--lang zh|en``: the language of terminal tables, messages, spreadsheet headers and maps."""
    return click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
                        is_eager=True, callback=_remember_lang, help=help_text)(command)


def page_lang_option(command):
    """Add ``--lang zh|en`` of ``serve``: the language of the page (map, panel, its messages) and the terminal."""
    return lang_option(command, "Language of the page (map, panel and the messages it shows) and of the terminal's "
                                "messages.")


def _remember_lang(ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """Keep ``--lang`` where the error handler of the command group finds it (``ctx.meta`` is shared)."""
    ctx.meta[LANG_KEY] = value
    return value


def force_option(command):
    """Add ``--force``: write into a non-empty output folder that healthreach did not create."""
    return click.option("--force", is_flag=True,
                        help="Write into a non-empty output folder that healthreach did not create "
                             "(files of the same names are replaced, others kept).")(command)


def cache_option(command):
    """Add ``--cache-dir``: the disk cache root (default ``~/.cache/healthreach``, or ``$HEALTHREACH_CACHE``)."""
    return click.option("--cache-dir", "cache", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="Where downloads, road networks, cell attachments, read inputs, band polygons and road "
                             "layers are kept [default: $HEALTHREACH_CACHE, else ~/.cache/healthreach].")(command)


def poster_option(command):
    """Add ``--poster A3|A4``: also write poster.pdf and poster.png, the whole study area on one landscape page."""
    return click.option("--poster", type=click.Choice(["A3", "A4"], case_sensitive=False), default=None,
                        help="Also write poster.pdf and poster.png: the whole study area on one landscape A3 or "
                             "A4 page, with the key figures, legend, scale bar and north arrow (in --lang).")(command)
