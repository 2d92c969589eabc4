"""The screenshot of docs/serve.md: the what-if page on the demo county after a township centre is dragged.

A uvicorn server runs on a free port in this process; Chromium (Playwright)
opens the page, drags THC12 (双河镇卫生院) with the mouse to the site of the
relocation in ``scenarios/``, and saves the page once the panel and the map
are redrawn.

Run: ``.venv/bin/python -m tools.serve_screenshot [--lang zh|en] [--out docs/img/serve-page.png]``.
"""

from __future__ import annotations

import argparse
import os
import socket
import threading
import time
from pathlib import Path

import healthreach

SITE = {"lon": 108.082981, "lat": 29.454511}  # THC12's new site in scenarios/relocate-four-township-health-centres
CHROMIUM = Path(os.environ.get("HEALTHREACH_CHROMIUM", "/usr/bin/chromium"))


def main() -> None:
    """Serve the demo, drag THC12 in Chromium, save the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=["zh", "en"], default="zh")
    parser.add_argument("--out", type=Path, default=Path("docs/img/serve-page.png"))
    args = parser.parse_args()
    import uvicorn
    from playwright.sync_api import sync_playwright

    from healthreach.serve.app import Server, create_app

    app = create_app(Server(healthreach.open_study("demo").baseline(), lang=args.lang))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        page = browser.new_page(viewport={"width": 1700, "height": 1000})
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("#hr-figures tr")
        page.wait_for_function("hrServe.busy === 0")
        box = page.locator('.hr-facility[data-id="THC12"]').bounding_box()
        x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        x1, y1 = page.evaluate(f"(() => {{ const p = hrServe.map.latLngToContainerPoint([{SITE['lat']}, "
                               f"{SITE['lon']}]); const r = hrServe.map.getContainer().getBoundingClientRect(); "
                               "return [r.left + p.x, r.top + p.y]; })()")
        page.mouse.move(x0, y0)
        page.mouse.down()
        for k in range(1, 31):
            page.mouse.move(x0 + (x1 - x0) * k / 30, y0 + (y1 - y0) * k / 30)
            page.wait_for_timeout(20)
        page.mouse.up()
        page.wait_for_function("hrServe.timings.some(t => t.what === 'drop') && hrServe.busy === 0")
        page.wait_for_timeout(300)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.out))
        browser.close()
    server.should_exit = True
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
