"""The ``compare`` table on the terminal: fits any width, names wrapped, rank and figures never cut or hidden.

The rank, the ranking standard, its change and the people gained and lost
are always shown; the other standards are added while they fit (the CSV
has every one). Scenarios are listed by their ``name:``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from healthreach.labels import say, standard_titles
from healthreach.terminal import markup

if TYPE_CHECKING:
    from healthreach.evaluation import Evaluation

SCENARIO_MIN_WIDTH = 24  # cells kept for scenario names before other standards are added (names wrap inside)
HEADER_MIN_WIDTH = 8  # cells: a figure column is at least this wide, its header folded to it
COLUMN_COST = 3  # cells a column adds beside its content: padding and the rule between columns


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def share_text(value: object) -> str:
    """A share (0..1) as a percentage; 'n/a' when missing."""
    return "n/a" if _missing(value) else f"{value:.1%}"


def change_text(value: object, share: bool) -> str:
    """A change: share points with a colour for shares, else a signed number; blank when missing."""
    if _missing(value):
        return ""
    if not share:
        return f"{value:+.2f}"
    points = 100 * float(value)  # type: ignore[arg-type]
    colour = "green" if points > 0.05 else "red" if points < -0.05 else "white"
    return f"[{colour}]{points:+.1f} pp[/]"


def people_text(value: object) -> str:
    """People, rounded, with thousands separators; blank when not counted."""
    return "" if _missing(value) else f"{value:,.0f}"


def _width(cells: list[str]) -> int:
    """The widest of ``cells`` (rich markup of our own: figures and their colours), in terminal cells."""
    return max((cell_len(Text.from_markup(c).plain) for c in cells), default=0)


def fold(text: str, width: int) -> str:
    """``text`` broken into lines of at most ``width`` terminal cells: at spaces, else inside a word (CJK)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if cell_len(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for char in word:
            if cell_len(line + char) > width:
                lines.append(line)
                line = ""
            line += char
    return "\n".join([*lines, line] if line else lines)


def print_comparison(table: pd.DataFrame, base: Evaluation, by: str, lang: str, out: Console) -> None:
    """Print the ranked comparison ``table`` (see :func:`healthreach.scenario.compare.compare_table`)."""
    english = {fid: f.title for fid, f in base.figures.items()}
    titles = standard_titles(base.study.standards, english, lang)
    unit = {fid: f.unit for fid, f in base.figures.items()}

    def value(sid: str, v: object) -> str:
        return share_text(v) if unit.get(sid) == "share of people" or _missing(v) else f"{v:.2f}"

    names = [say("baseline", lang) if r["scenario"] == "(baseline)" and not r["file"] else str(r["scenario"])
             for _, r in table.iterrows()]
    duplicated = {n for n in names if names.count(n) > 1}
    names = [f"{n} ({f})" if n in duplicated and f else n for n, f in zip(names, table["file"], strict=True)]
    columns: list[tuple[str, list[str]]] = [
        ("#", [str(r) for r in table["rank"]]),
        (titles.get(by, by), [value(by, v) for v in table[by]]),
        (say("change", lang), [change_text(v, unit[by] == "share of people") for v in table[f"{by}_change"]]),
        (say("gained", lang), [people_text(v) for v in table["newly_covered_people"]]),
        (say("lost", lang), [people_text(v) for v in table["lose_coverage_people"]]),
    ]
    widths = [max(_width(cells), HEADER_MIN_WIDTH if header != "#" else 1) for header, cells in columns]
    room = out.width - 1 - (SCENARIO_MIN_WIDTH + COLUMN_COST) - sum(w + COLUMN_COST for w in widths)
    for sid in (c for c in table.columns if c in unit and c != by):
        cells = [value(sid, v) for v in table[sid]]
        width = max(_width(cells), HEADER_MIN_WIDTH)
        if width + COLUMN_COST > room:
            break  # the rest are in the CSV
        room -= width + COLUMN_COST
        columns.append((titles.get(sid, sid), cells))
        widths.append(width)
    view = Table(title=markup(say("compare_title", lang, study=base.inputs.study.name, n=len(table) - 1,
                                   by=titles.get(by, by))))
    view.add_column("#", justify="right", no_wrap=True, min_width=widths[0])
    longest = max(map(cell_len, names))  # names are the user's text, not markup
    view.add_column(say("scenario", lang), overflow="fold", min_width=min(SCENARIO_MIN_WIDTH, longest))
    for (header, _), width in zip(columns[1:], widths[1:], strict=True):
        # headers folded to the figures' width: the figures set each column's width, never the title
        view.add_column(markup(fold(header, width)), justify="right", no_wrap=True, min_width=width, max_width=width)
    for i, name in enumerate(names):
        view.add_row(columns[0][1][i], markup(name), *(cells[i] for _, cells in columns[1:]))
    out.print(view)
    out.print(say("compare_note", lang, by=titles.get(by, by)), soft_wrap=False)
