"""The files of a batch folder and of each study folder in it."""

from __future__ import annotations

RESULT = "result.json"  # a study folder's marker: task hash, files written, summary row
ERROR = "error.txt"  # a failed study's message (and traceback for an unexpected error)
DISTRICT = "district.geojson"  # a study's district outline, WGS84, drawn on the coverage map
SUMMARY_FILES = ("summary.csv", "summary.xlsx", "coverage_map.html")  # the batch folder's combined summary
