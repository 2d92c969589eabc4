"""``healthreach serve``'s JSON API and sessions on the demo county, through Starlette's test client.

The figures a session shows are checked against the same changes applied at
once by ``Evaluation.apply`` (as ``healthreach scenario`` applies them);
the saved scenario file is read back by ``load_scenario`` and must give the
same figures; malformed requests get a 4xx with a message, never a 500.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from healthreach.scenario.schema import load_scenario, parse_changes
from healthreach.serve.app import MAX_CHANGE_BYTES, Server, create_app
from healthreach.serve.changes import merge
from healthreach.serve.payloads import band_of
from healthreach.serve.suggestions import BaselineSuggestions

testclient = pytest.importorskip("starlette.testclient")

THC12_SITE = {"lon": 108.082981, "lat": 29.454511}
NEW_SITE = {"lon": 107.657998, "lat": 29.231259}
ADD_N1 = {"add": "N1", "name": "永安镇卫生院新院区", "type": "township_hc", "at": NEW_SITE, "beds": 50}


def merged(*changes):
    out: list = []
    for c in changes:
        out = merge(out, parse_changes([c])[0])
    return out


# --- a session's changes kept as one valid scenario -------------------------------------------------------------


def test_a_second_relocation_replaces_the_first_site():
    out = merged({"relocate": "THC12", "to": {"lon": 1, "lat": 2}, "beds": 50}, {"relocate": "THC12", "to": THC12_SITE})
    assert out == [{"relocate": "THC12", "to": THC12_SITE, "beds": 50}]


def test_changes_to_an_added_facility_edit_its_add_and_closing_it_drops_it():
    out = merged(ADD_N1, {"relocate": "N1", "to": THC12_SITE}, {"expand": "N1", "ambulances": 2},
                 {"upgrade": "N1", "emergency": True})
    assert out == [{**ADD_N1, "at": THC12_SITE, "ambulances": 2, "emergency": True}]
    assert merged(ADD_N1, {"expand": "N1", "beds": 9}, {"close": "N1"}) == []


def test_an_expansion_after_a_relocation_with_beds_sets_the_relocations_beds():
    out = merged({"relocate": "THC12", "to": THC12_SITE, "beds": 50}, {"expand": "THC12", "beds": 80, "ambulances": 1})
    assert out == [{"relocate": "THC12", "to": THC12_SITE, "beds": 80}, {"expand": "THC12", "ambulances": 1}]


def test_an_expansion_is_not_moved_before_a_merger_into_the_same_facility():
    out = merged({"expand": "THC13", "beds": 10}, {"close": "THC15", "into": "THC13"}, {"expand": "THC13", "beds": 20})
    assert [next(iter(c)) for c in out] == ["expand", "close", "expand"]


def test_time_bands_of_the_canvas_are_the_maps():
    assert band_of(np.array([0, 300, 301, 600, 900, 1800, 1801, np.inf])).tolist() == [0, 0, 1, 1, 2, 3, 4, 4]


# --- the API ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(demo_audit):
    return Server(demo_audit, lang="en", max_sessions=3)


@pytest.fixture
def client(server):
    return testclient.TestClient(create_app(server), raise_server_exceptions=False, base_url="http://127.0.0.1")


def start(client) -> dict[str, str]:
    return {"X-Session": client.post("/api/sessions").json()["session"]}


def by_id(payload) -> dict:
    return {row["standard"]: row for row in payload["figures"]}


def expected(base, changes) -> dict:
    """The figures rows of ``healthreach scenario`` for ``changes`` applied at once."""
    table = base.diff(base.apply(changes)).standards
    return {r["standard"]: (r["scenario"], r["newly_covered_people"], r["lose_coverage_people"])
            for r in table.to_dict("records")}


def assert_figures(payload, want) -> None:
    got = by_id(payload)
    assert set(got) == set(want)
    for sid, (now, gained, lost) in want.items():
        row = got[sid]
        for a, b in ((row["now"], now), (row["newly_covered_people"], gained), (row["lose_coverage_people"], lost)):
            assert (a is None and (b is None or np.isnan(b))) or a == pytest.approx(b, abs=1e-9), (sid, a, b)


def test_a_session_starts_at_the_baseline(client, demo_audit):
    data = client.get("/api/figures", headers=start(client)).json()
    circle = by_id(data)["primary_care_15min"]
    assert circle["now"] == circle["baseline"] == pytest.approx(demo_audit.figures["primary_care_15min"].share, 1e-6)
    assert data["cells"]["lon"] == []
    assert data["facilities"] == []
    assert data["changes"] == []
    assert not data["can_undo"]
    assert not data["can_redo"]


def test_changes_undo_redo_and_the_saved_scenario_give_the_figures_of_the_same_changes_at_once(client, demo_audit,
                                                                                                 tmp_path):
    h = start(client)
    steps = [{"relocate": "THC12", "to": {"lon": 108.07, "lat": 29.45}}, ADD_N1,
             {"relocate": "THC12", "to": THC12_SITE}, {"relocate": "N1", "to": {"lon": 107.66, "lat": 29.232}},
             {"upgrade": "THC11", "type": "regional_subcentre", "emergency": True},
             {"expand": "THC11", "beds": 100, "ambulances": 3}, {"close": "THC15", "into": "THC13"}]
    for step in steps:
        response = client.post("/api/changes", headers=h, json=step)
        assert response.status_code == 200, response.text
    data = response.json()
    final = [{"relocate": "THC12", "to": THC12_SITE}, {**ADD_N1, "at": {"lon": 107.66, "lat": 29.232}},
             {"upgrade": "THC11", "type": "regional_subcentre", "emergency": True},
             {"expand": "THC11", "beds": 100, "ambulances": 3}, {"close": "THC15", "into": "THC13"}]
    assert data["changes"] == final
    assert_figures(data, expected(demo_audit, final))
    circle = by_id(data)["primary_care_15min"]
    assert circle["newly_covered_people"] > 0
    assert len(data["cells"]["lon"]) == len(data["cells"]["lat"]) == len(data["cells"]["band"]) > 0
    assert {1, 2} <= set(data["cells"]["kind"])  # cells entering and leaving the circle
    ids = {f["id"]: f for f in data["facilities"]}
    assert ids["THC15"]["closed"]
    assert ids["N1"]["lon"] == pytest.approx(107.66, abs=1e-6)
    assert ids["THC12"]["lat"] == pytest.approx(THC12_SITE["lat"], abs=1e-6)

    saved = client.get("/api/scenario", headers=h)
    path = tmp_path / "saved.yaml"
    path.write_text(saved.text, encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.study is None  # the demo
    assert_figures(data, expected(demo_audit, scenario))

    undone = client.post("/api/undo", headers=h).json()
    assert undone["changes"] == final[:-1]
    assert undone["can_redo"]
    assert_figures(undone, expected(demo_audit, final[:-1]))
    redone = client.post("/api/redo", headers=h).json()
    assert redone["changes"] == final
    assert not redone["can_redo"]
    assert_figures(redone, expected(demo_audit, final))


def test_the_painted_cells_are_those_whose_minutes_differ_from_a_full_evaluation(client, server, demo_audit):
    h = start(client)
    changes = [{"relocate": "THC12", "to": THC12_SITE}, {"close": "THC15"}, ADD_N1]
    for change in changes:
        data = client.post("/api/changes", headers=h, json=change).json()
    full = demo_audit.apply(changes, incremental=False)  # every surface recomputed: an independent reference
    before, after = demo_audit.primary_seconds, full.primary_seconds
    differ = np.flatnonzero(before != after)
    cells = data["cells"]
    assert sorted(zip(cells["lon"], cells["lat"], strict=True)) == sorted(
        zip(server.grid.lon[differ].tolist(), server.grid.lat[differ].tolist(), strict=True))
    limit = demo_audit.study.primary.limit_s
    order = np.lexsort((server.grid.lat[differ], server.grid.lon[differ]))
    got = sorted(zip(cells["lon"], cells["lat"], cells["kind"], cells["band"], strict=True))
    want_kind = np.where((after <= limit) & (before > limit), 1, np.where((before <= limit) & (after > limit), 2, 0))
    want = [(int(server.grid.lon[c]), int(server.grid.lat[c]), int(want_kind[c]), int(band_of(after[c:c + 1])[0]))
            for c in differ[order]]
    assert got == want


def test_a_preview_is_not_kept_unless_committed(client, demo_audit):
    h = start(client)
    move = {"relocate": "THC12", "to": THC12_SITE}
    preview = client.post("/api/changes?preview=1", headers=h, json=move).json()
    assert_figures(preview, expected(demo_audit, [move]))
    assert client.get("/api/figures", headers=h).json()["changes"] == []
    committed = client.post("/api/changes", headers=h, json=move).json()
    assert committed["changes"] == [move]
    assert committed["can_undo"]
    assert committed["figures"] == preview["figures"]


def test_closing_an_added_facility_returns_to_the_baseline(client, demo_audit):
    h = start(client)
    client.post("/api/changes", headers=h, json=ADD_N1)
    data = client.post("/api/changes", headers=h, json={"close": "N1"}).json()
    assert data["changes"] == []
    assert data["cells"]["lon"] == []
    assert by_id(data)["primary_care_15min"]["now"] == pytest.approx(demo_audit.figures["primary_care_15min"].share,
                                                                      abs=1e-6)


def test_a_scenario_file_loads_and_gives_the_figures_of_healthreach_scenario(client, demo_audit):
    from pathlib import Path

    path = Path(__file__).parents[1] / "scenarios" / "relocate-four-township-health-centres.yaml"
    h = start(client)
    data = client.post("/api/scenario", headers=h, content=path.read_bytes()).json()
    assert_figures(data, expected(demo_audit, load_scenario(path)))
    assert len(data["changes"]) == len(load_scenario(path).changes)
    assert client.post("/api/undo", headers=h).json()["changes"] == []


@pytest.mark.parametrize(("change", "words"), [
    ({"close": "THC99"}, "no facility with id 'THC99'"),
    ({"relocate": "THC05", "to": {"lon": 107.2, "lat": 29.5}}, "outside the study area"),
    ({"relocate": "THC12", "to": {"lon": 29.46, "lat": 108.07}}, "swap"),
    ({"relocate": "THC12", "to": {"lon": "NaN", "lat": 29.4}}, "finite"),
    ({"add": "THC12", "name": "x", "type": "township_hc", "at": NEW_SITE}, "already exists"),
    ({"add": "N9", "name": "x", "type": "hospitl", "at": NEW_SITE}, "not a facility type"),
    ({"upgrade": "THC12"}, "needs type:, emergency: or name:"),
    ({"relocate": "THC12", "too": THC12_SITE}, "did you mean 'to'"),
])
def test_wrong_changes_get_the_scenario_files_messages(client, change, words):
    h = start(client)
    response = client.post("/api/changes", headers=h, json=change)
    assert response.status_code == 422
    assert words in response.json()["error"]
    assert client.get("/api/figures", headers=h).json()["changes"] == []


def test_contradictions_with_earlier_changes_are_refused(client):
    h = start(client)
    assert client.post("/api/changes", headers=h, json={"close": "THC15"}).status_code == 200
    response = client.post("/api/changes", headers=h, json={"expand": "THC15", "beds": 9})
    assert response.status_code == 422
    assert "THC15" in response.json()["error"]


@pytest.mark.parametrize(("body", "status", "words"), [
    (b"{not json", 400, "not valid JSON"),
    (b'{"relocate": "THC12", "to": {"lon": NaN, "lat": 29.4}}', 400, "NaN"),
    (b'{"relocate": "THC12", "to": {"lon": Infinity, "lat": 29.4}}', 400, "Infinity"),
    (b'["close", "THC12"]', 400, "one change as a JSON object"),
    (b"\xff\xfe", 400, "UTF-8"),
    (b'{"close": "' + b"x" * MAX_CHANGE_BYTES + b'"}', 413, "larger than"),
])
def test_malformed_bodies_get_a_4xx_with_a_message(client, body, status, words):
    response = client.post("/api/changes", headers=start(client), content=body)
    assert response.status_code == status
    assert words in response.json()["error"]


def test_sessions_are_named_isolated_and_capped(client, server):
    a, b = start(client), start(client)
    client.post("/api/changes", headers=a, json={"close": "THC12"})
    assert client.get("/api/figures", headers=b).json()["changes"] == []
    assert client.get("/api/figures").status_code == 400
    assert "unknown or expired" in client.get("/api/figures", headers={"X-Session": "nope"}).json()["error"]
    for _ in range(server.sessions.cap):
        start(client)
    assert client.get("/api/figures", headers=a).status_code == 404  # the oldest dropped


def test_an_uploaded_scenario_never_names_a_server_file(client, tmp_path):
    secret = tmp_path / "secret.yaml"
    secret.write_text("name: s\n", encoding="utf-8")
    for study in (str(secret), "/etc/passwd", "../../../../etc"):
        text = f"name: t\nstudy: {study}\nchanges:\n  - close: THC12\n"
        response = client.post("/api/scenario", headers=start(client), content=text.encode())
        assert response.status_code == 200  # the study key is not read: the changes apply to the served study
        assert response.json()["changes"] == [{"close": "THC12"}]
    for name in ("../app.py", "..%2Fapp.py", "serve.py", "%2Fetc%2Fpasswd"):
        assert client.get(f"/static/{name}").status_code == 404
    bad = client.post("/api/scenario", headers=start(client), content=b"name: [unclosed\n")
    assert bad.status_code == 422
    assert "not valid YAML" in bad.json()["error"]


def test_requests_for_another_host_are_refused_without_a_token(client):
    response = client.get("/api/figures", headers={**start(client), "Host": "evil.example"})
    assert response.status_code == 400


def test_a_server_with_a_token_refuses_requests_without_it(demo_audit, server):
    server.token = "s3cret"  # noqa: S105  a test token
    try:
        c = testclient.TestClient(create_app(server), raise_server_exceptions=False, base_url="http://10.0.0.5")
        assert c.get("/").status_code == 401
        assert c.post("/api/sessions").status_code == 401
        assert c.post("/api/sessions", headers={"X-Token": "wrong"}).status_code == 401
        sid = c.post("/api/sessions", headers={"X-Token": "s3cret"}).json()["session"]
        assert c.get(f"/api/figures?token=s3cret&session={sid}").status_code == 200
        assert c.get("/static/serve.js").status_code == 200  # the package's script holds nothing of the study
    finally:
        server.token = None


def test_export_is_the_hearing_map_of_the_current_state(client):
    h = start(client)
    client.post("/api/changes", headers=h, json={"relocate": "THC12", "to": THC12_SITE})
    page = client.get("/api/export", headers=h)
    assert page.status_code == 200
    assert page.headers["content-disposition"].startswith("attachment")
    assert "What-if session" in page.text
    assert "L.map(" in page.text
    assert "unpkg.com" not in page.text
    assert "cdn.jsdelivr" not in page.text


def test_suggested_sites_come_from_the_suggester_given_to_the_server(demo_audit):
    sites = [{"lon": NEW_SITE["lon"], "lat": NEW_SITE["lat"], "label": "+1,234"}]
    seen = []
    server = Server(demo_audit, suggest=lambda ev: seen.append(ev) or sites)
    c = testclient.TestClient(create_app(server), raise_server_exceptions=False, base_url="http://127.0.0.1")
    assert c.get("/api/suggestions", headers=start(c)).json() == {"available": True, "sites": sites}
    assert seen == [demo_audit]
    assert '"suggestions": true' in c.get("/").text


def test_the_suggested_sites_of_healthreach_suggest_are_offered_and_gain_what_they_say(demo_audit):
    suggester = BaselineSuggestions(demo_audit.study, "township_hc", 2)
    server = Server(demo_audit, suggest=suggester)
    c = testclient.TestClient(create_app(server), raise_server_exceptions=False, base_url="http://127.0.0.1")
    headers = start(c)
    sites = c.get("/api/suggestions", headers=headers).json()["sites"]
    table = suggester.result.sites
    assert [(s["lon"], s["lat"]) for s in sites] == list(zip(table["lon"], table["lat"], strict=True))
    first = {"add": "S1", "name": "suggested", "type": "township_hc", "at": {"lon": sites[0]["lon"],
                                                                            "lat": sites[0]["lat"]}}
    answer = c.post("/api/changes", json=first, headers=headers).json()
    row = by_id(answer)["primary_care_15min"]
    assert row["newly_covered_people"] == pytest.approx(table["people_newly_covered"].iloc[0], abs=0.5)


def test_a_fuzz_of_malformed_requests_leaves_the_server_answering(client):
    rng = random.Random(16)  # noqa: S311  a repeatable fuzz, not a secret
    h = start(client)
    atoms = [None, True, 0, -1, 1e308, "", "THC12", "N1", "x" * 300, [], {}, {"lon": 1}, {"x": 1, "y": 2},
             {"lon": 108.08, "lat": 29.45}, {"lon": 108.08, "lat": 29.45, "crs": "EPSG:99999"}]
    keys = ["add", "relocate", "close", "upgrade", "expand", "to", "at", "into", "type", "beds", "ambulances",
            "emergency", "name", "allow_outside", "note", "crs", "__proto__"]
    statuses = set()
    for _ in range(300):
        body = {rng.choice(keys): rng.choice(atoms) for _ in range(rng.randint(0, 5))}
        raw = json.dumps(body).encode()
        if rng.random() < 0.2:
            raw = raw[: rng.randint(0, len(raw))]  # cut short
        path = rng.choice(["/api/changes", "/api/changes?preview=1", "/api/scenario", "/api/undo", "/api/redo"])
        response = client.post(path, headers=h, content=raw)
        statuses.add(response.status_code)
        assert response.status_code < 500, (path, raw, response.text)
        if response.status_code >= 400:
            assert response.json()["error"]
            assert "Traceback" not in response.text
    assert {200, 400, 422} <= statuses
    assert client.get("/api/figures", headers=h).status_code == 200


def test_the_chinese_page_titles_each_figure_in_chinese(demo_audit):
    c = testclient.TestClient(create_app(Server(demo_audit)), raise_server_exceptions=False,
                              base_url="http://127.0.0.1")
    rows = by_id(c.get("/api/figures", headers=start(c)).json())
    assert rows["primary_care_15min"]["title"] == "15分钟医疗服务圈"
    assert rows["primary_care_15min_65plus"]["title"] == "15分钟医疗服务圈：65岁及以上老年人"


def test_the_65plus_groups_people_gained_and_lost_come_with_everyones(client, demo_audit):
    h = start(client)
    changes = [{"relocate": "THC12", "to": THC12_SITE}, {"close": "THC15"}]
    for change in changes:
        data = client.post("/api/changes", headers=h, json=change).json()
    diff = demo_audit.diff(demo_audit.apply(changes))
    assert data["population_groups"] == [{"group": "65plus", "name": "people aged 65 and over",
                                          "newly_covered_people": pytest.approx(diff.newly_covered_of("65plus")),
                                          "lose_coverage_people": pytest.approx(diff.lose_coverage_of("65plus"))}]
    assert data["population_groups"][0]["lose_coverage_people"] > 0
    rows = by_id(data)
    assert rows["primary_care_15min_65plus"]["lose_coverage_people"] == pytest.approx(diff.lose_coverage_of("65plus"),
                                                                                abs=0.05)  # rounded to 0.1
