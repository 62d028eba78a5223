"""From a guard's one-click alarm at a school to the alarm on the district officer's screen.

    .venv/bin/python -m benchmarks.centre_latency [--alarms 30]

The real chain: a school's `gatewatch serve` (a looped clip as its camera), Debian's mosquitto,
the `gatewatch center` process and the centre's page in Debian's Chromium. Each alarm is raised
through the school's API (stored, then sent by its outbox); a subscriber on the broker notes when
the message passes, and the page itself notes (a MutationObserver, `Date.now()`) when the row is
drawn. All on one machine, so one clock:

    raised -> on the broker       the school's request, SQLite commit, outbox wake-up, publish
    on the broker -> on screen    the centre's subscriber, its SQLite commit, the pushed event,
                                  the page reading the list and drawing it
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, sync_playwright

from benchmarks.live_latency import row
from tests.live import (
    PASSWORD,
    Broker,
    Serve,
    Subscriber,
    cut_clip,
    free_port,
    start_center,
    wait_for,
    write_config,
)

SITE = "No1 Middle School"
PREFIX = "bench"
WATCH = """() => {
  window.seen = {};
  new MutationObserver(() => {
    for (const row of document.querySelectorAll("#open-alarms .alarm-row")) {
      const m = /bench (\\d+)/.exec(row.textContent);
      if (m && !(m[1] in window.seen)) window.seen[m[1]] = Date.now();
    }
  }).observe(document.querySelector("#open-alarms"), {childList: true, subtree: true});
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alarms", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as driver:
        folder = Path(tmp)
        broker = Broker(folder).start()
        clip = cut_clip(folder / "clip.mp4", 10)
        config = write_config(
            folder,
            {"gate": {"source": str(clip), "loop": True}},
            site=SITE,
            mqtt={"host": "127.0.0.1", "port": broker.port, "topic_prefix": PREFIX},
        )
        school = Serve(folder, config).start()
        port = free_port()
        centre = start_center(folder, broker.port, port, PREFIX, sites=(SITE,))
        wire = Subscriber(broker.port, f"{PREFIX}/+/alarms")
        chromium = driver.chromium.launch(executable_path=shutil.which("chromium") or "chromium")
        try:
            url = f"http://127.0.0.1:{port}"
            page = chromium.new_page()
            wait_for(lambda: _answers(page, url), 60, "the centre's page")
            page.fill("input[name=username]", "district")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("#connection:has-text('●')", timeout=30_000)
            page.evaluate(WATCH)
            guard = school.client("guard")
            raised: dict[str, float] = {}
            for n in range(args.alarms):
                raised[str(n)] = time.time()
                assert guard.post("/api/alarms", json={"reason": f"bench {n}"}).status_code == 201
                wait_for(lambda n=n: page.evaluate(f"() => window.seen['{n}']"), 30, f"alarm {n} on screen")
                time.sleep(0.5)  # one alarm at a time: each measured alone
            seen = page.evaluate("() => window.seen")
        finally:
            chromium.close()
            centre.stop()
            school.stop()
            broker.stop()
        on_wire: dict[str, float] = {}
        for arrived, _topic, payload, _retained in wire.on("/alarms"):  # the first time each passed
            on_wire.setdefault(json.loads(payload)["reason"].split()[1], arrived)
        wire.close()
    to_broker = [on_wire[n] - raised[n] for n in raised]
    to_screen = [seen[n] / 1000 - on_wire[n] for n in raised]
    total = [seen[n] / 1000 - raised[n] for n in raised]
    print(f"\n{args.alarms} one-click alarms, one at a time, school -> mosquitto -> centre -> Chromium\n")
    print("| span | median ms | p95 ms | max ms | alarms |")
    print("|---|---|---|---|---|")
    print(row("raised at the school -> on the broker", to_broker))
    print(row("on the broker -> on the centre's screen", to_screen))
    print(row("raised at the school -> on the centre's screen", total))


def _answers(page: Page, url: str) -> bool:
    try:
        page.goto(f"{url}/login")
        return True
    except PlaywrightError:  # not listening yet
        return False


if __name__ == "__main__":
    main()
