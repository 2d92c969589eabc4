"""docs/api.md runs: its Python blocks in order, in one namespace, and its profile example as a profile."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from healthreach.profile import PROFILES

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_the_api_example_runs(demo_inputs, capsys):
    code = blocks("python")
    assert len(code) >= 4
    namespace: dict = {}
    for block in code:
        exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 - the documentation's own example
    printed = capsys.readouterr().out
    assert "15-minute circle:" in printed
    assert "no facility with id 'THC99'" in printed
    assert "中没有编号为 'THC99' 的机构" in printed  # the same error in Chinese, error.text("zh")
    written = sorted(namespace["written"])
    rasters = [name for name in written if name.endswith(".tif")]
    assert [name for name in written if name not in rasters] == [
        "audit.xlsx", "facilities.csv", "isochrones.gpkg", "map.html", "summary.json", "townships.csv", "villages.csv"]
    # one travel-time raster per time surface: the circle, walking and driving, ambulances out, tertiary, tiers
    assert {"time_emergency_ambulance_from_min.tif", "time_primary_care_drive_min.tif", "time_primary_care_min.tif",
            "time_primary_care_walk_min.tif", "time_tertiary_drive_min.tif",
            "time_county_hospitals_drive_min.tif"} <= set(rasters)


def test_the_profile_example_is_a_new_standard_with_no_code(tmp_path):
    """The documented drive_time standard, added to the default profile, gives its figure and columns."""
    import healthreach

    example = yaml.safe_load(blocks("yaml")[0])
    profile = yaml.safe_load((PROFILES / "default.yaml").read_text(encoding="utf-8"))
    profile["groups"].update(example["groups"])
    profile["standards"].update(example["standards"])
    (tmp_path / "more.yaml").write_text(yaml.safe_dump(profile, allow_unicode=True, sort_keys=False),
                                          encoding="utf-8")
    demo = yaml.safe_load((Path(healthreach.__file__).parent / "demo" / "study.yaml").read_text(encoding="utf-8"))
    demo_dir = Path(healthreach.__file__).parent / "demo"
    for key in ("roads", "facilities", "population", "boundaries", "villages"):
        if isinstance(demo.get(key), dict) and "path" in demo[key]:
            demo[key]["path"] = str(demo_dir / demo[key]["path"])
    for spec in demo.get("population_groups", {}).values():
        spec["path"] = str(demo_dir / spec["path"])
    demo["profile"] = str(tmp_path / "more.yaml")
    base = healthreach.open_study(demo).baseline()
    figure = base.figures["township_centre_20min"]
    assert figure.title == "Township health centre within 20 min drive"
    assert 0 < figure.share < 1
    assert {"township_centre_20min_share", "township_centre_unreachable"} <= set(base.townships.columns)
    # the profile's order, each figure followed by its population group's
    assert list(base.figures)[-2:] == ["township_centre_20min", "township_centre_20min_65plus"]
