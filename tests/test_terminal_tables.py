"""Terminal tables written to a real pipe and at narrow widths: names wrap, figures stay whole, in either language."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

RUN = "from healthreach.cli import main; main()"


def audit_through_a_pipe(study, out, *options, columns=None):
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns:
        env["COLUMNS"] = str(columns)
    done = subprocess.run(  # noqa: S603  this interpreter and the test's own arguments
        [sys.executable, "-c", RUN, "audit", str(study), "--out", str(out), "--no-map", *options],
        capture_output=True, env=env, check=False, timeout=900)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode("utf-8")


@pytest.mark.parametrize(("lang", "columns"), [("zh", None), ("zh", 40), ("en", None), ("en", 40)])
def test_a_piped_audit_table_keeps_every_figure_whole(small_study, tmp_path, lang, columns):
    text = audit_through_a_pipe(small_study, tmp_path / "out", "--lang", lang, columns=columns)
    assert "…" not in text
    assert "\x1b[" not in text  # no terminal escapes in a pipe
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    lines = text.splitlines()
    for s in summary["standards"]:
        assert any(f"{s['population']:,.0f}" in line for line in lines), s["id"]
        if s["covered_population"] is not None:
            assert any(f"{s['covered_population']:,.0f}" in line for line in lines), s["id"]
        if s["share"] is not None and s["unit"] == "share of people" and "mean_response_min" not in s:
            assert any(f"{s['share']:.1%}" in line for line in lines), s["id"]
    if lang == "zh":
        assert "达标人口" in text
        assert "15分钟医疗服务圈" in "".join(line.split("  ")[0].strip() for line in lines)  # wrapped, not cut
    else:
        assert "covered" in text
        assert "primary_care_15min" in "".join(line.split(" ")[0] for line in lines)
