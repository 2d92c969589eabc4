"""Messages to the user (errors, warnings, notes) in English and Chinese.

A message is written once, in English, as a ``str.format`` template with
named fields: ``Message("{file}: unknown road class {value!r}", file=..., value=...)``.
Its Chinese template lives in a catalogue under this package, keyed by the
English template (as gettext does), so the code reads in one language and a
new language is one more catalogue. ``str(message)`` is English, which is what
the Python API, logs and ``pytest.raises(match=...)`` see; the command line
renders it in ``--lang``. A test checks that every template in the code has a
translation with the same fields, and that no translation is left unused.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, Literal

LANGS = ("zh", "en")


class Message:
    """An English ``str.format`` template with its values; rendered in a language on demand."""

    __slots__ = ("template", "values")

    def __init__(self, template: str, /, **values: Any) -> None:
        self.template = template
        self.values = values

    def __reduce__(self):
        """Pickle by template and values (errors travel from Dask workers)."""
        return _rebuild, (self.template, self.values)

    def __repr__(self) -> str:
        """``Message(template, **values)``."""
        return f"Message({self.template!r}, **{self.values!r})"

    def __eq__(self, other: object) -> bool:
        """Equal when template and values are."""
        return isinstance(other, Message) and (self.template, self.values) == (other.template, other.values)

    __hash__ = None  # type: ignore[assignment]  # values may be unhashable

    def render(self, lang: str = "en") -> str:
        """The message in ``lang`` (``zh`` or ``en``); values that are messages render in the same language."""
        template = self.template if lang == "en" else catalogue(lang).get(self.template, self.template)
        values = {k: v.render(lang) if isinstance(v, Message) else v for k, v in self.values.items()}
        return template.format(**values)

    def __str__(self) -> str:
        """The message in English."""
        return self.render("en")


def _rebuild(template: str, values: dict[str, Any]) -> Message:
    return Message(template, **values)


def render(text: str | Message, lang: str) -> str:
    """``text`` in ``lang``: a plain string is returned as it is (a file name, a value from the data)."""
    return text.render(lang) if isinstance(text, Message) else str(text)


class Joined(Message):
    """Several messages (or plain texts) joined by a separator of each language; flat, however many parts."""

    __slots__ = ("parts", "separators")

    def __init__(self, parts: Sequence[str | Message], separators: dict[str, str]) -> None:
        super().__init__("{parts}")
        self.parts = tuple(parts)
        self.separators = separators

    def render(self, lang: str = "en") -> str:
        """The parts in ``lang``, joined by the language's separator."""
        return self.separators[lang].join(render(part, lang) for part in self.parts)

    def __reduce__(self):
        """Pickle by parts and separators."""
        return Joined, (self.parts, self.separators)

    def __repr__(self) -> str:
        """``Joined(parts, separators)``."""
        return f"Joined({self.parts!r}, {self.separators!r})"

    def __eq__(self, other: object) -> bool:
        """Equal when parts and separators are."""
        return isinstance(other, Joined) and (self.parts, self.separators) == (other.parts, other.separators)

    __hash__ = None


class Words(Message):
    """A name given in each language (a facility type, a tier), as a value of another message."""

    __slots__ = ("names",)

    def __init__(self, names: dict[str, str]) -> None:
        super().__init__("{name}")
        self.names = dict(names)

    def render(self, lang: str = "en") -> str:
        """The name in ``lang``."""
        return self.names[lang]

    def __reduce__(self):
        """Pickle by names."""
        return Words, (self.names,)

    def __repr__(self) -> str:
        """``Words(names)``."""
        return f"Words({self.names!r})"

    def __eq__(self, other: object) -> bool:
        """Equal when the names are."""
        return isinstance(other, Words) and self.names == other.names

    __hash__ = None


LINES = {"en": "\n", "zh": "\n"}
SEPARATORS = {"; ": {"en": "; ", "zh": "；"}, ", ": {"en": ", ", "zh": "、"}}


def message_lines(lines: Sequence[str | Message]) -> Message:
    """One message of several lines (each a message or plain text), rendered in one language."""
    return Joined(lines, LINES)


def message_list(parts: Sequence[str | Message], sep: Literal["; ", ", "] = "; ") -> Message:
    """Several items as one message, separated by ``sep`` (full-width in Chinese: ；and 、)."""
    return Joined(parts, SEPARATORS[sep])


def as_data(text: str | Message) -> str | dict[str, Any]:
    """``text`` as JSON-ready data (a message: its template and values, or its parts; other values become text)."""
    if not isinstance(text, Message):
        return str(text)
    if isinstance(text, Joined):
        return {"parts": [as_data(part) for part in text.parts], "separators": text.separators}
    if isinstance(text, Words):
        return {"names": text.names}

    def plain(value: Any) -> Any:
        if isinstance(value, Message):
            return as_data(value)
        if hasattr(value, "item") and callable(value.item):  # a numpy scalar
            value = value.item()
        return value if value is None or isinstance(value, (bool, int, float, str)) else str(value)

    return {"template": text.template, "values": {k: plain(v) for k, v in text.values.items()}}


def from_data(data: str | dict[str, Any]) -> str | Message:
    """The text or message :func:`as_data` gave."""
    if isinstance(data, str):
        return data
    if "parts" in data:
        return Joined([from_data(part) for part in data["parts"]], data["separators"])
    if "names" in data:
        return Words(data["names"])
    values = {k: from_data(v) if isinstance(v, dict) else v for k, v in data["values"].items()}
    return Message(data["template"], **values)


@cache
def catalogue(lang: str) -> dict[str, str]:
    """English template -> template in ``lang``, from every catalogue module of the language."""
    if lang != "zh":
        problem = f"no messages in {lang!r}; choose one of {', '.join(LANGS)}"
        raise ValueError(problem)
    from healthreach.messages import zh_inputs, zh_outputs, zh_suggest  # loaded on first use

    merged: dict[str, str] = {}
    for part in (zh_inputs.ZH, zh_outputs.ZH, zh_suggest.ZH):
        overlap = [t for t in merged.keys() & part.keys() if merged[t] != part[t]]  # one word may serve several
        if overlap:
            problem = f"messages translated twice, differently: {sorted(overlap)[:3]}"
            raise RuntimeError(problem)
        merged.update(part)
    return merged
