"""``healthreach serve`` in a real browser: a uvicorn server on a free port, Debian's Chromium through Playwright.

A person's gestures (drag a marker, click the map to add, close from the
popup, undo, redo, save) change the panel and the canvas; the saved scenario
file, evaluated by ``healthreach scenario``, gives exactly the figures the
panel showed; two tabs keep their own changes; a fuzz of malformed requests
over real HTTP leaves the server answering. The command itself is started as
a process: its options, its token and its port check.
"""

from __future__ import annotations

import csv
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from healthreach.serve.app import Server, create_app

CHROMIUM = Path(os.environ.get("HEALTHREACH_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
NEW_SITE = {"lon": 107.657998, "lat": 29.231259}
COMMAND = str(Path(sys.executable).parent / "healthreach")  # the console script installed with the package

pytestmark = pytest.mark.slow
uvicorn = pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live(demo_audit):
    """A real uvicorn server on the demo county, in a thread; its address."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(Server(demo_audit)), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (bash .ci/browser.sh installs it)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is not installed (pip install -e .[browser])")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


class Tab:
    """The page opened in a browser tab of its own, with every script error kept."""

    def __init__(self, browser, address: str):
        self.context = browser.new_context(viewport={"width": 1600, "height": 950}, accept_downloads=True)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.goto(address)
        self.page.wait_for_selector("#hr-figures tr")
        self.page.wait_for_function("hrServe.busy === 0")

    def settle(self) -> None:
        self.page.wait_for_function("hrServe.busy === 0")
        self.page.wait_for_timeout(100)

    def count(self) -> int:
        return int(re.search(r"\d+", self.page.inner_text("#hr-count")).group())

    def panel(self) -> dict[str, str]:
        return self.page.evaluate("Object.fromEntries([...document.querySelectorAll('#hr-figures tr')]"
                                  ".map(r => [r.dataset.standard, r.dataset.now]))")

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        """Page pixels of a site."""
        p = self.page.evaluate(f"(() => {{ const p = hrServe.map.latLngToContainerPoint([{lat}, {lon}]); "
                               "const r = hrServe.map.getContainer().getBoundingClientRect(); "
                               "return [r.left + p.x, r.top + p.y]; })()")
        return p[0], p[1]

    def marker(self, fid: str) -> tuple[float, float]:
        box = self.page.locator(f'.hr-facility[data-id="{fid}"]').bounding_box()
        return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    def painted(self) -> int:
        """Pixels painted on the changed-cells canvas."""
        return self.page.evaluate("(() => { const c = document.querySelector('canvas.hr-cells'); "
                                  "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; "
                                  "let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i]) n++; } return n; })()")

    def close(self) -> None:
        self.context.close()


def central_township_centre(tab: Tab) -> str:
    """A township health centre whose marker is in the open part of the map (not under the panel)."""
    ids = tab.page.evaluate("[...document.querySelectorAll('.hr-facility')].filter(e => "
                            "/^THC/.test(e.dataset.id)).map(e => { const r = e.getBoundingClientRect(); "
                            "return [e.dataset.id, r.left, r.top]; })")
    return next(i for i, x, y in sorted(ids, key=lambda r: abs(r[1] - 700)) if 350 < x < 1000 and 250 < y < 650)


def test_dragging_a_township_centre_changes_the_figures_and_repaints_the_map(browser, live):
    tab = Tab(browser, live)
    before = tab.panel()
    assert tab.painted() == 0
    fid = central_township_centre(tab)
    x, y = tab.marker(fid)
    tab.page.mouse.move(x, y)
    tab.page.mouse.down()
    cx, cy = tab.point(*tab.page.evaluate("(() => { const c = hrServe.map.getCenter(); return [c.lng, c.lat]; })()"))
    dx, dy = (cx - x) / max(abs(cx - x), abs(cy - y), 1), (cy - y) / max(abs(cx - x), abs(cy - y), 1)
    moves = 40
    for k in range(1, moves + 1):  # towards the middle of the study area: the new site stays inside it
        tab.page.mouse.move(x + 2.5 * k * dx, y + 2.5 * k * dy)
    tab.page.mouse.up()
    tab.page.wait_for_function("hrServe.timings.some(t => t.what === 'drop')")
    tab.settle()
    assert tab.count() == 1
    after = tab.panel()
    assert after["primary_care_15min"] != before["primary_care_15min"]
    assert tab.painted() > 0
    kinds = {t["what"] for t in tab.page.evaluate("hrServe.timings")}
    assert {"drag", "drop"} <= kinds
    # only the latest position is computed while dragging: fewer previews than mouse moves
    assert sum(t["what"] == "drag" for t in tab.page.evaluate("hrServe.timings")) < moves
    changes = tab.page.evaluate("fetch('api/figures', {headers: {'X-Session': hrServe.session}}).then(r => r.json())"
                                ".then(d => d.changes)")
    assert len(changes) == 1
    assert changes[0]["relocate"] == fid
    groups = tab.page.evaluate("fetch('api/figures', {headers: {'X-Session': hrServe.session}}).then(r => r.json())"
                               ".then(d => d.population_groups)")
    summary = tab.page.inner_text("#hr-summary").splitlines()  # everyone's gained and lost, then the 65+ group's
    old = groups[0]
    assert len(summary) == 2
    assert summary[1] == (f"其中65岁及以上老年人：新增覆盖 {round(old['newly_covered_people']):,} 人，"
                          f"失去覆盖 {round(old['lose_coverage_people']):,} 人")
    assert not tab.errors
    tab.close()


def add_by_hand(tab: Tab) -> None:
    """Click the add button, then the map at a new site, and fill the form: a 50-bed emergency centre."""
    page = tab.page
    page.click("#hr-add-mode")
    page.mouse.click(*tab.point(**NEW_SITE))
    page.wait_for_selector(".hr-add-form")
    page.fill(".hr-add-form input[name=name]", "永安镇卫生院新院区")
    page.select_option(".hr-add-form select[name=type]", "township_hc")
    page.fill(".hr-add-form input[name=beds]", "50")
    page.check(".hr-add-form input[name=emergency]")
    page.click(".hr-add-form .hr-add")
    tab.settle()


def close_and_expand_from_popups(tab: Tab) -> None:
    """Close THC15 and give THC13 120 beds and 2 ambulances, from their popups."""
    page = tab.page
    page.mouse.click(*tab.marker("THC15"))
    page.wait_for_selector(".hr-edit .hr-close")
    page.click(".hr-edit .hr-close")
    tab.settle()
    assert "hr-closed" in page.locator('.hr-facility[data-id="THC15"]').get_attribute("class")
    page.mouse.click(*tab.marker("THC13"))
    page.wait_for_selector(".hr-edit .hr-expand")
    page.fill(".hr-edit input[name=beds]", "120")
    page.fill(".hr-edit input[name=ambulances]", "2")
    page.click(".hr-edit .hr-expand")
    tab.settle()


def scenario_command_figures(saved: Path, out: Path) -> dict[str, str]:
    """``healthreach scenario SAVED``'s standards.csv: standard -> scenario value, as written."""
    from click.testing import CliRunner

    from healthreach.cli import cli

    result = CliRunner().invoke(cli, ["scenario", str(saved), "--out", str(out), "--no-map"])
    assert result.exit_code == 0, result.output
    with (out / "standards.csv").open(encoding="utf-8-sig") as f:  # written with a BOM for spreadsheets
        return {r["standard"]: r["scenario"] for r in csv.DictReader(f)}


def test_add_close_undo_redo_and_save_match_healthreach_scenario(browser, live, tmp_path):
    tab = Tab(browser, live)
    page = tab.page
    add_by_hand(tab)
    assert tab.count() == 1
    assert page.locator('.hr-facility[data-id="NEW1"]').count() == 1
    close_and_expand_from_popups(tab)
    assert tab.count() == 3

    with_three = tab.panel()
    page.click("#hr-undo")
    tab.settle()
    assert tab.count() == 2
    page.click("#hr-redo")
    tab.settle()
    assert tab.count() == 3
    assert tab.panel() == with_three

    with page.expect_download() as download:
        page.click("#hr-save")
    (tmp_path / "in").mkdir()
    saved = tmp_path / "in" / "saved.yaml"
    download.value.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    assert "add: NEW1" in text
    assert "close: THC15" in text
    want = scenario_command_figures(saved, tmp_path / "out")
    for sid, now in tab.panel().items():
        if now == "":
            assert want[sid] == "", sid
        else:
            assert float(now) == pytest.approx(float(want[sid]), abs=1e-9), sid

    with page.expect_download() as exported:
        page.click("#hr-export")
    exported_map = tmp_path / "map.html"
    exported.value.save_as(exported_map)
    assert "THC15" in exported_map.read_text(encoding="utf-8")
    assert not tab.errors
    tab.close()


def test_a_scenario_file_loads_from_the_page_and_a_facility_upgrades_from_its_popup(browser, live, demo_audit):
    from healthreach.scenario.schema import load_scenario

    path = Path(__file__).parents[1] / "scenarios" / "relocate-four-township-health-centres.yaml"
    tab = Tab(browser, live)
    page = tab.page
    page.set_input_files("#hr-file", str(path))
    page.wait_for_function("hrServe.timings.some(t => t.what === 'load')")
    tab.settle()
    scenario = load_scenario(path)
    assert tab.count() == len(scenario.changes)
    want = demo_audit.apply(scenario).figures["primary_care_15min"].share
    assert float(tab.panel()["primary_care_15min"]) == pytest.approx(round(want, 6), abs=1e-9)

    page.locator('.hr-facility[data-id="THC03"]').click()  # refused by Playwright if another marker covers it
    page.wait_for_selector(".hr-edit .hr-upgrade")
    page.select_option(".hr-edit select[name=type]", "regional_subcentre")
    page.check(".hr-edit input[name=emergency]")
    page.click(".hr-edit .hr-upgrade")
    tab.settle()
    assert tab.count() == len(scenario.changes) + 1
    changes = tab.page.evaluate("fetch('api/figures', {headers: {'X-Session': hrServe.session}}).then(r => r.json())"
                                ".then(d => d.changes)")
    assert changes[-1] == {"upgrade": "THC03", "type": "regional_subcentre", "emergency": True}
    assert not tab.errors
    tab.close()


def test_suggested_sites_show_as_a_layer_and_one_click_opens_the_add_form(browser, demo_audit):
    sites = [{"lon": NEW_SITE["lon"], "lat": NEW_SITE["lat"], "label": "+1,234"}]
    port = free_port()
    app = create_app(Server(demo_audit, suggest=lambda _: sites))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        tab = Tab(browser, f"http://127.0.0.1:{port}/")
        tab.page.wait_for_selector(".hr-suggestion")
        assert "+1,234" in tab.page.inner_text(".hr-rank")
        tab.page.mouse.click(*tab.point(**NEW_SITE))
        tab.page.wait_for_selector(".hr-add-form")
        tab.page.click(".hr-add-form .hr-add")
        tab.settle()
        assert tab.count() == 1
        tab.close()
    finally:
        server.should_exit = True
        thread.join(10)


def test_a_bad_site_shows_the_scenario_files_message_and_changes_nothing(browser, live):
    tab = Tab(browser, live)
    tab.page.evaluate("hrServe.change({relocate: 'THC05', to: {lon: 107.2, lat: 29.5}}).catch(() => null)")
    tab.settle()
    shown = tab.page.inner_text("#hr-status.hr-error")
    assert "第 1 项变更（relocate THC05）" in shown  # the page's language, Chinese by default
    assert "在研究区外" in shown
    assert tab.count() == 0
    tab.close()


def test_two_tabs_do_not_see_each_others_changes(browser, live):
    one, two = Tab(browser, live), Tab(browser, live)
    baseline = two.panel()
    one.page.evaluate("hrServe.change({close: 'THC12'})")
    one.settle()
    assert one.count() == 1
    assert one.panel() != baseline
    two.page.evaluate("hrServe.undo()")  # nothing to undo in this tab
    two.settle()
    assert two.count() == 0
    assert two.panel() == baseline
    two.page.reload()
    two.page.wait_for_selector("#hr-figures tr")
    two.settle()
    assert two.panel() == baseline
    one.close()
    two.close()


def test_a_fuzz_of_malformed_requests_over_http_leaves_the_server_answering(live):
    rng = random.Random(1616)  # noqa: S311  a repeatable fuzz, not a secret
    host, port = "127.0.0.1", int(live.rstrip("/").rsplit(":", 1)[1])
    with httpx.Client(base_url=live, timeout=30) as c:
        sid = c.post("api/sessions").json()["session"]
        for _ in range(150):
            n = rng.randint(0, 400)
            body = bytes(rng.getrandbits(8) for _ in range(n))
            path = rng.choice(["api/changes", "api/changes?preview=1", "api/scenario", "api/undo", "api/sessions",
                               "api/figures", "static/../../etc/passwd", "api/export"])
            headers = {"X-Session": rng.choice([sid, "", "x" * 500, "../../"])}
            response = c.request(rng.choice(["POST", "GET", "PUT"]), path, content=body, headers=headers)
            assert response.status_code < 500, (path, body, response.text)
            assert "Traceback" not in response.text
        # raw garbage and a body that never ends
        for garbage in (b"\x00\x01\x02 nonsense\r\n\r\n", b"POST /api/changes HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        b"Content-Length: 99999999\r\nX-Session: " + sid.encode() + b"\r\n\r\n{"):
            with socket.create_connection((host, port), timeout=10) as s:
                s.sendall(garbage)
                s.settimeout(10)
                try:
                    answer = s.recv(200)
                except TimeoutError:
                    answer = b""
                assert b" 500 " not in answer
        assert c.get("api/figures", headers={"X-Session": sid}).status_code == 200


# --- the command ---------------------------------------------------------------------------------------------------


def start_command(*args: str) -> tuple[subprocess.Popen, str]:
    """``healthreach serve ARGS`` as a process; its first line naming the address."""
    proc = subprocess.Popen([COMMAND, "serve", *args], stderr=subprocess.PIPE,  # noqa: S603  our own command
                            stdout=subprocess.DEVNULL, text=True, env={**os.environ, "COLUMNS": "400"})
    lines = []
    for line in proc.stderr:  # the console writes to stderr
        lines.append(line)
        if "http://" in line:
            return proc, "".join(lines)
    proc.wait(10)
    pytest.fail(f"healthreach serve ended without an address: {''.join(lines)}")
    raise AssertionError  # unreachable: pytest.fail raises


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(20)


def test_the_command_serves_in_english_with_capped_sessions(tmp_path):
    port = free_port()
    proc, said = start_command("--port", str(port), "--lang", "en", "--max-sessions", "2",
                               "--cache-dir", str(tmp_path / "cache"))
    try:
        assert f"http://127.0.0.1:{port}/" in said
        address = f"http://127.0.0.1:{port}/"
        with httpx.Client(base_url=address, timeout=60) as c:
            page = c.get("")
            assert page.status_code == 200
            assert "What-if: figures" in page.text
            assert "health service access audit" in page.text
            first = c.post("api/sessions").json()["session"]
            for _ in range(2):
                c.post("api/sessions")
            assert c.get("api/figures", headers={"X-Session": first}).status_code == 404
        assert (tmp_path / "cache").is_dir()
    finally:
        stop(proc)


def test_another_host_needs_the_token_printed_at_start(tmp_path):
    port = free_port()
    proc, said = start_command("--host", "0.0.0.0", "--port", str(port), "--cache-dir", str(tmp_path / "cache"))  # noqa: S104
    try:
        token = re.search(r"\?token=([\w-]+)", said).group(1)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/", timeout=60) as c:
            assert c.get("").status_code == 401
            assert "token" in c.post("api/sessions").json()["error"]
            assert c.get(f"?token={token}").status_code == 200
            assert c.post("api/sessions", headers={"X-Token": token}).status_code == 200
    finally:
        stop(proc)


def test_a_port_in_use_is_refused_before_any_work():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([COMMAND, "serve", "--port", str(port), "--lang", "en"],  # noqa: S603  our own command
                                capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_command_offers_the_sites_healthreach_suggest_ranks(tmp_path):
    port = free_port()
    proc, _ = start_command("--port", str(port), "--suggest", "township_hc", "--suggest-count", "2",
                            "--cache-dir", str(tmp_path / "cache"))
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/", timeout=60) as c:
            session = c.post("api/sessions").json()["session"]
            answer = c.get("api/suggestions", headers={"X-Session": session}).json()
            assert answer["available"]
            assert len(answer["sites"]) == 2
            assert all(site["label"].startswith(f"#{k + 1} ") for k, site in enumerate(answer["sites"]))
    finally:
        stop(proc)


def test_an_unknown_suggested_type_is_refused_at_start():
    result = subprocess.run([COMMAND, "serve", "--port", str(free_port()), "--suggest", "spaceport"],  # noqa: S603
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 1
    assert "spaceport" in result.stderr
    assert "Traceback" not in result.stderr
