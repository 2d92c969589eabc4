"""Harness of the hostile-input suite: run a CLI command under a time bound and judge what it left behind.

A run goes through click's runner in this process (fast; a SIGALRM guard stops
a hang) or, for cases that may hang in C code or exhaust memory, through a
subprocess with a wall-clock limit and an address-space cap. Either way the
result is an :class:`Outcome`; the ``problems_*`` functions return the list of
contract breaches (empty when the run met the contract), so one case reports
every way it fails at once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

# Input and output errors exit 1 (2 is for command-line usage mistakes, reported by click).
INPUT_ERROR_EXIT = (1,)
TIME_LIMIT_S = 30.0  # no single command may run longer (the hang guard)
MAX_MESSAGE_CHARS = 4000  # an error message echoes a short excerpt of the input, never the whole of it
SUBPROCESS_MEMORY_BYTES = 6 * 1024**3  # address-space cap of a subprocess run
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")  # OWASP CSV injection: text cells must not start so
TERMINAL_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # nothing a user typed may move the cursor or recolour


def in_english(args: list) -> list[str]:
    """``args`` with ``--lang en`` after the command: the cases look for English words in the messages."""
    args = [str(a) for a in args]
    return [*args[:1], "--lang", "en", *args[1:]] if args and "--lang" not in args else args


class Hang(BaseException):
    """Raised by the alarm in an in-process run that outlived its time limit (not an Exception: nothing swallows it)."""


@dataclass
class Outcome:
    """What a command did: exit code, terminal text, an escaped exception's traceback, wall time (s)."""

    exit_code: int | None
    stdout: str
    stderr: str
    traceback: str | None
    seconds: float
    timed_out: bool = False

    @property
    def text(self) -> str:
        return self.stdout + "\n" + self.stderr


def invoke(args: list[str], time_limit_s: float = TIME_LIMIT_S) -> Outcome:
    """Run ``healthreach ARGS`` through click's runner, stopped by SIGALRM after ``time_limit_s``."""
    from healthreach.cli import cli

    def alarm(signum, frame):
        msg = f"still running after {time_limit_s:.0f} s"
        raise Hang(msg)

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, time_limit_s)
    start = time.perf_counter()
    timed_out = False
    try:
        result = CliRunner().invoke(cli, in_english(args), catch_exceptions=True,
                                    env={"COLUMNS": "160"})
    except Hang:
        timed_out = True
        result = None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    seconds = time.perf_counter() - start
    if result is None:
        return Outcome(None, "", "", None, seconds, timed_out=True)
    tb = None
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        tb = "".join(traceback.format_exception(*result.exc_info))
    stderr = result.stderr
    return Outcome(result.exit_code, result.stdout, stderr, tb, seconds, timed_out)


def run_subprocess(args: list[str], time_limit_s: float = TIME_LIMIT_S, cwd: Path | None = None,
                   memory_bytes: int = SUBPROCESS_MEMORY_BYTES) -> Outcome:
    """Run ``healthreach ARGS`` in a new process (own session, capped address space), killed at the time limit.

    Output goes to temporary files, of which only the first 2 MB are read: a
    runaway message cannot exhaust this process either.
    """
    env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1", "PYTHONWARNINGS": "ignore"}
    # the child caps its own address space before it imports anything of size
    code = (f"import resource, sys; resource.setrlimit(resource.RLIMIT_AS, ({memory_bytes}, {memory_bytes})); "
            "from healthreach.cli import main; sys.argv[0] = 'healthreach'; main()")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", code, *in_english(args)],  # noqa: S603  this interpreter
                                stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd, env=env,
                                start_new_session=True)
        timed_out = False
        try:
            proc.wait(timeout=time_limit_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)  # the session this call started, and nothing else
            proc.wait()
        seconds = time.perf_counter() - start
        texts = []
        for f in (out, err):
            f.seek(0)
            texts.append(f.read(2_000_000).decode("utf-8", "replace"))
    stdout, stderr = texts
    tb = stderr if "Traceback (most recent call last)" in stderr else None
    return Outcome(None if timed_out else proc.returncode, stdout, stderr, tb, seconds, timed_out)


# --- the files a run may not touch ----------------------------------------------------------------------

def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def snapshot(roots: list[Path], out: Path | None) -> dict[str, str]:
    """SHA-256 of every file below ``roots``, except files inside the output folder ``out``.

    When ``out`` is (or contains) a root, the root's files are still taken:
    they are inputs, and an output folder that swallows its inputs may not
    change them either.
    """
    hashes: dict[str, str] = {}
    for root in roots:
        root_in_out = out is not None and _inside(root, out)
        for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
            if out is not None and not root_in_out and _inside(path, out):
                continue
            hashes[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def problems_inputs_unchanged(before: dict[str, str], after: dict[str, str], out: Path | None) -> list[str]:
    """Every file of ``before`` still there, byte for byte; no new file outside the output folder."""
    problems = []
    for path, digest in before.items():
        if path not in after:
            problems.append(f"input file deleted: {path}")
        elif after[path] != digest:
            problems.append(f"input file changed: {path}")
    problems.extend(f"file written outside the output folder: {path}" for path in sorted(set(after) - set(before))
                    if out is None or not _inside(Path(path), out))
    return problems


# --- the contract -------------------------------------------------------------------------------------

def problems_common(o: Outcome, time_limit_s: float) -> list[str]:
    """No traceback, no hang, nothing a user typed reaches the terminal as a control character."""
    problems = []
    if o.timed_out:
        problems.append(f"hang: killed after {o.seconds:.1f} s (limit {time_limit_s:.0f} s)")
    elif o.seconds > time_limit_s:
        problems.append(f"too slow: {o.seconds:.1f} s (limit {time_limit_s:.0f} s)")
    if o.traceback or "Traceback (most recent call last)" in o.text:
        problems.append("traceback: " + _last_line(o.traceback or o.text))
    control = sorted(set(TERMINAL_CONTROL.findall(o.text)))
    if control:
        problems.append(f"control characters reach the terminal: {control!r}")
    return problems


def problems_error(o: Outcome, culprits: list[str], hide: list[str] = ()) -> list[str]:
    """Exit with an input-error code and one short message that names one of ``culprits`` (file, key, row, id).

    Each folder of ``hide`` (the test's temporary folder) reads as ``<tmp>`` in
    the message and in the culprits, so a token cannot match by accident
    inside a temporary path.
    """
    if o.timed_out:
        return []
    problems = []
    if o.exit_code not in INPUT_ERROR_EXIT:
        problems.append(f"exit code {o.exit_code}, expected one of {INPUT_ERROR_EXIT} "
                        f"(output: {_excerpt(o.text)})")
        return problems
    if o.traceback:
        return problems  # already reported as a traceback
    text = o.text
    if len(text) > MAX_MESSAGE_CHARS:
        problems.append(f"message of {len(text):,} characters (limit {MAX_MESSAGE_CHARS:,}): {_excerpt(text)}")
    flat, culprits = _hidden(" ".join(text.split()), hide), [_hidden(c, hide) for c in culprits]
    flat = flat.casefold()
    if not any(c.casefold() in flat for c in culprits):
        problems.append(f"message names none of {culprits}: {_excerpt(text)}")
    headers = [line for line in text.splitlines() if re.match(r"\s*error\b", line, re.IGNORECASE)]
    if len(headers) > 1:
        problems.append(f"{len(headers)} error messages, expected one: {_excerpt(text)}")
    return problems


def _hidden(text: str, folders) -> str:
    for folder in sorted(folders, key=len, reverse=True):
        text = text.replace(folder, "<tmp>")
    return text


def problems_success(o: Outcome) -> list[str]:
    if o.timed_out or o.traceback:
        return []
    if o.exit_code != 0:
        return [f"exit code {o.exit_code}, expected 0 (output: {_excerpt(o.text)})"]
    return []


def problems_note(out: Path | None, tokens: list[str]) -> list[str]:
    """A counted note in the outputs: a line of summary.json's warnings or notes names a token and a number."""
    lines: list[str] = []
    summary = out / "summary.json" if out is not None else None
    if summary is not None and summary.is_file():
        import json

        for key, value in json.loads(summary.read_text(encoding="utf-8")).items():
            if "warning" in key or "note" in key:
                lines.extend(str(v) for v in (value if isinstance(value, list) else [value]))
    for line in lines:
        low = line.casefold()
        if any(t.casefold() in low for t in tokens) and re.search(r"\d", line):
            return []
    return [f"exit 0 without a counted note naming any of {tokens} in summary.json"]


def problems_inert_files(out: Path) -> list[str]:
    """No CSV text cell starts like a formula; no XLSX cell is a formula; no HTML page runs a user's script."""
    problems: list[str] = []
    if not out.exists():
        return problems
    files = [out] if out.is_file() else sorted(p for p in out.rglob("*") if p.is_file())
    for path in files:
        if path.suffix.lower() == ".csv":
            problems += _csv_formula_rows(path)
        elif path.suffix.lower() == ".xlsx":
            problems += _xlsx_formula_cells(path)
        elif path.suffix.lower() == ".html":
            page = path.read_text(encoding="utf-8", errors="replace")
            if "<script>alert(1)</script>" in page:
                problems.append(f"{path.name}: a user's <script> is live in the page")
    return problems[:10]


def _csv_formula_rows(path: Path) -> list[str]:
    """The rows of a CSV file with a text cell that starts like a formula (the first such cell each)."""
    problems = []
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as f:  # a bare CR ends a row,
        text = f.read()  # as it does in spreadsheet software
    for r, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        for value in row:
            if value.startswith(FORMULA_PREFIXES) and not _is_number(value):
                problems.append(f"{path.name} row {r}: text cell starts like a formula: {value[:40]!r}")
                break
    return problems


def _xlsx_formula_cells(path: Path) -> list[str]:
    """The cells of a workbook that hold a live formula."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    return [f"{path.name} {sheet.title}!{cell.coordinate}: live formula {str(cell.value)[:40]!r}"
            for sheet in book.worksheets for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]


def _is_number(value: str) -> bool:
    try:
        return not math.isnan(float(value)) or value.strip().lower() == "nan"
    except ValueError:
        return False


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _excerpt(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + " …"
