"""The fonts a poster is set in: a CJK font for Chinese text, with DejaVu Sans for the symbols it lacks.

matplotlib draws a character its fonts lack as an empty box (tofu) and only
warns, so before anything is drawn every character of the poster's text is
looked up in the fonts' character maps (:func:`poster_fonts`); a character
no font has stops the poster with :class:`PosterFontError`, naming it and
how to install a font that has it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

from healthreach.errors import HealthreachError
from healthreach.messages import Message

FONT_ENV = "HEALTHREACH_FONT"  # a .ttf, .otf or .ttc file to set the poster in, tried first

# CJK families tried in this order (Linux packages first, then Windows and macOS fonts)
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
                "WenQuanYi Zen Hei", "Droid Sans Fallback", "Microsoft YaHei", "SimHei", "PingFang SC",
                "Hiragino Sans GB", "AR PL UMing CN")
LAST_RESORT = "Last Resort"  # matplotlib's font with a placeholder box for every code point: never chosen
SYMBOL_FAMILY = "DejaVu Sans"  # matplotlib's own font: arrows, ≤, ≥, ✓ and Latin text the CJK font lacks


class PosterFontError(HealthreachError, RuntimeError):
    """No installed font can draw some character of the poster."""


@dataclass(frozen=True)
class PosterFonts:
    """The font files a poster uses, in the order matplotlib tries them for each character."""

    paths: tuple[Path, ...]
    families: tuple[str, ...]


@lru_cache(maxsize=64)
def charmap(path: str) -> frozenset[int]:
    """The code points the font file at ``path`` has a glyph for (the first face of a collection)."""
    return frozenset(FT2Font(path).get_charmap())


def _candidates() -> list[tuple[str, str]]:
    """(family, path) of the fonts to try: $HEALTHREACH_FONT, then the known CJK families, then every other font."""
    out: list[tuple[str, str]] = []
    chosen = os.environ.get(FONT_ENV)
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            msg = Message("{env}={chosen}: no such font file. Give the path of a .ttf, .otf or .ttc file, or unset "
                          "{env} to use an installed CJK font", env=FONT_ENV, chosen=chosen)
            raise PosterFontError(msg)
        font_manager.fontManager.addfont(str(path))
        out.append((font_manager.FontProperties(fname=str(path)).get_name(), str(path)))
    entries = font_manager.fontManager.ttflist
    rank = {name: i for i, name in enumerate(CJK_FAMILIES)}
    known = sorted((e for e in entries if e.name in rank), key=lambda e: (rank[e.name], e.weight != 400))
    out += [(e.name, e.fname) for e in known]
    out += [(e.name, e.fname) for e in entries if e.name not in rank]
    return [(name, path) for name, path in out if not name.startswith(LAST_RESORT)]


def poster_fonts(text: str) -> PosterFonts:
    """The fonts to set ``text`` in: a CJK font when it has Chinese, then DejaVu Sans; checked glyph by glyph.

    Raises :class:`PosterFontError` naming the characters no installed font
    has and how to install one (``HEALTHREACH_FONT`` names a font file to use).
    """
    symbol_path = font_manager.findfont(font_manager.FontProperties(family=SYMBOL_FAMILY), fallback_to_default=False)
    missing = {ord(c) for c in text if not c.isspace()} - charmap(symbol_path)
    if not missing:
        return PosterFonts((Path(symbol_path),), (SYMBOL_FAMILY,))
    best: tuple[str, str, set[int]] | None = None
    for family, path in _candidates():
        try:
            left = missing - charmap(path)
        except (OSError, RuntimeError):  # a file fontconfig lists but FreeType cannot open
            continue
        if best is None or len(left) < len(best[2]):
            best = (family, path, left)
        if not left:
            break
    if best is not None and not best[2]:
        return PosterFonts((Path(best[1]), Path(symbol_path)), (best[0], SYMBOL_FAMILY))
    missing = best[2] if best is not None else missing
    chars = "".join(sorted(chr(c) for c in missing))[:40]
    msg = Message("no installed font has the characters {chars!r} the poster needs, so they would print as empty "
                  "boxes. Install a Chinese font (Debian/Ubuntu: apt-get install fonts-noto-cjk or fonts-wqy-microhei; "
                  "Windows and macOS have one), or set {env} to a .ttf/.otf/.ttc file that has them; or draw the "
                  "poster with --lang en if only the labels are Chinese", chars=chars, env=FONT_ENV)
    raise PosterFontError(msg)
