"""One exception family for everything a user can get wrong.

Each error also inherits the builtin it refines, so callers may catch either
``HealthreachError`` or, say, ``ValueError``. Messages say what was wrong,
where (file, key, row, id) and what to do about it, in English and Chinese
(:mod:`healthreach.messages`).
"""

from __future__ import annotations

from healthreach.messages import render


class HealthreachError(Exception):
    """Base class of every error healthreach raises on purpose.

    Its message is a :class:`healthreach.messages.Message` (or plain text):
    ``str(error)`` is English, :meth:`text` renders it in a language.
    """

    def __str__(self) -> str:
        """The message in English."""
        return str(self.args[0]) if self.args else ""

    def text(self, lang: str) -> str:
        """The message in ``lang`` (``zh`` or ``en``)."""
        return render(self.args[0], lang) if self.args else ""


class InputError(HealthreachError, ValueError):
    """An input file or value is missing, malformed or inconsistent."""


class StudyError(InputError):
    """The study file is invalid (unknown key, wrong type, missing file)."""


class CRSError(HealthreachError, ValueError):
    """A coordinate reference system is unknown or cannot be used."""


class NetworkError(HealthreachError, RuntimeError):
    """The road network cannot be built or routed on."""


class BatchError(HealthreachError, RuntimeError):
    """A batch cannot run at all (unreachable Dask scheduler, Dask missing); a failing study is a row instead."""


class ScenarioError(InputError):
    """A scenario file is invalid or contradicts its study."""


class OutputError(HealthreachError, OSError):
    """An output folder or file cannot be used (it holds inputs, is not writable, belongs to someone else)."""


class SuggestError(InputError):
    """A site search cannot run as asked (unknown type or standard, no candidate sites, bad candidate file)."""
