"""Text for the terminal: the user's text made safe to embed in rich markup.

Light to import: rich is loaded when a line is first marked up, so that
parsing a command line or showing its help loads none of it.
"""

from __future__ import annotations

import re

TERMINAL_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # escape sequences, bells, backspaces, ...


def markup(text: object) -> str:
    r"""``text`` safe to embed in a rich console string: ``[`` cannot start markup, and control
    characters (escape sequences, bells, backspaces) are shown as ``\xNN`` instead of acting on
    the terminal. Line breaks and tabs are kept.
    """
    from rich.markup import escape

    return escape(TERMINAL_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text)))
