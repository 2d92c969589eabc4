"""The examples each command's ``--help`` ends with: real invocations a planner can copy."""

from __future__ import annotations

EXAMPLES: dict[str, tuple[str, ...]] = {
    "audit": (
        "healthreach audit                      # the bundled demo county -> out/demo/",
        "healthreach audit data/wulong --out out/wulong --lang en",
        "healthreach audit data/wulong/study.yaml --offline --no-map",
    ),
    "scenario": (
        "healthreach scenario scenarios/relocate-four-township-health-centres.yaml",
        "healthreach scenario plan.yaml --out out/plan --lang en",
        "healthreach scenario plan.yaml --full --no-map",
    ),
    "compare": (
        "healthreach compare scenarios/*.yaml",
        "healthreach compare a.yaml b.yaml --by emergency_response_12min",
        "healthreach compare a.yaml b.yaml --by 急救反应 --out out/compare.csv --lang en",
    ),
    "batch": (
        "healthreach batch data/districts --workers 4",
        "healthreach batch districts.xlsx --out out/batch --strict",
        "healthreach batch data/districts --scheduler tcp://10.0.0.5:8786",
    ),
}


def epilog(command: str) -> str:
    """The ``Examples:`` block for ``command``'s help, kept as written (click does not rewrap it)."""
    lines = "\n".join(f"  {line}" for line in EXAMPLES[command])
    return f"\b\nExamples:\n{lines}"
