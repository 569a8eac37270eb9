"""Benchmark of the live dashboard: months a second, in the server and in a real browser.

    .venv/bin/python bench/bench_dashboard.py                   # 2,000 and 5,000 people, quickstart's 3 arms
    .venv/bin/python bench/bench_dashboard.py --people 5000 --no-browser

Two measures, each for a market of N people and the scenario's sides (quickstart: 3 arms):

- frame: what one month costs the server, in-process: every side's market steps a month
  and the stage is drawn (`sim.outputs.dashboard.frame.draw`: the network of every side,
  four charts, the words). 1000 / (ms per month) is the most months a second it can serve.
- browser: `grapevine dashboard SCENARIO --people N` in a subprocess, Debian's Chromium
  through Playwright; the speed button is set, ▶ Play pressed, and the months the page
  shows are counted over a window. Done at the stated rate (5 a second: it must keep it)
  and at the fastest button (10 a second: the headroom).

Target: >= 5 months a second in the browser at 2,000 and 5,000 people on 2 cores. The
machine is shared: the load average (`uptime`) is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

TARGET = 5.0  # months a second in the browser
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def frame_cost(scenario: str, people: int, months: int = 36) -> tuple[float, float, float]:
    """(median, 90th percentile) ms for one month of every side plus drawing the stage, and the
    median ms of the months alone (the markets' share)."""
    from sim.outputs.dashboard.frame import draw
    from sim.outputs.dashboard.live import SideBySide
    from sim.outputs.dashboard.settings import dashboard_settings

    settings = dashboard_settings(scenario, people=people)
    settings["start"]["shared"]["months"] = max(settings["start"]["shared"]["months"], months)
    live = SideBySide(settings)
    draw(live)  # the layout is computed once, before the months play
    costs, steps = [], []
    for _ in range(months):
        started = time.perf_counter()
        live.step()
        stepped = time.perf_counter()
        draw(live)
        costs.append((time.perf_counter() - started) * 1000)
        steps.append((stepped - started) * 1000)
    costs.sort()
    return statistics.median(costs), costs[int(0.9 * (len(costs) - 1))], statistics.median(steps)


def browser_rate(scenario: str, people: int, rates: list[int], window: float) -> dict[int, float]:
    """Months a second the page shows while playing at each of `rates` (the speed buttons)."""
    from playwright.sync_api import sync_playwright

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "sim.cli", "dashboard", scenario, "--people", str(people),
                               "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    found = {}
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(url, timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(f"the dashboard did not start on {url}")
                time.sleep(0.5)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(url)
            month = page.locator('[data-key="month"]')
            month.wait_for(timeout=120_000)
            for rate in rates:
                page.get_by_role("button", name="Back to the scenario's settings").click()
                page.wait_for_function("() => document.querySelector('[data-key=\"month\"]').textContent"
                                       ".startsWith('0 ')", timeout=60_000)
                page.get_by_role("button", name=str(rate), exact=True).click()
                page.get_by_role("button", name="▶ Play").click()
                page.wait_for_function("() => parseInt(document.querySelector('[data-key=\"month\"]')"
                                       ".textContent) >= 2", timeout=60_000)
                first, started = int(month.text_content().split()[0]), time.monotonic()
                page.wait_for_timeout(window * 1000)
                last, ended = int(month.text_content().split()[0]), time.monotonic()
                found[rate] = (last - first) / (ended - started)
                if last >= int(month.text_content().split()[-1]):
                    raise SystemExit(f"the horizon came within the window at {rate} a second: shorten --window")
                page.get_by_role("button", name="❚❚ Pause").click()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=15)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="quickstart")
    parser.add_argument("--people", type=int, nargs="+", default=[2000, 5000])
    parser.add_argument("--window", type=float, default=4.0,
                        help="seconds of play counted in the browser (at 10 a second, within quickstart's 48 months)")
    parser.add_argument("--no-browser", action="store_true", help="the in-process frame cost only")
    args = parser.parse_args()
    if not args.no_browser and not os.path.exists(CHROMIUM):
        raise SystemExit(f"{CHROMIUM} is missing: run with --no-browser")

    print(f"load before: {load()}")
    rows = []
    for people in args.people:
        median, slow, markets = frame_cost(args.scenario, people)
        rates = {} if args.no_browser else browser_rate(args.scenario, people, [5, 10], args.window)
        rows.append((people, median, slow, markets, rates))
        print(f"{people:>6,} people: a month {median:.1f} ms (90%: {slow:.1f} ms; the markets {markets:.1f} ms) in "
              f"the server, at most {1000 / median:.0f} months a second; in the browser "
              + ", ".join(f"asked {r}: {v:.2f}" for r, v in rates.items()), flush=True)
    print(f"load after: {load()}")
    print(f"\n| people | server: ms a month (median / 90%) | of which the markets | browser, asked 5 a second | "
          f"browser, asked 10 | >= {TARGET:g} a second |")
    print("|---:|---:|---:|---:|---:|---|")
    ok = True
    for people, median, slow, markets, rates in rows:
        met = all(rate >= TARGET * 0.95 for rate in rates.values()) if rates else 1000 / median >= TARGET
        ok &= met
        print(f"| {people:,} | {median:.1f} / {slow:.1f} | {markets:.1f} | {rates.get(5, float('nan')):.2f} | "
              f"{rates.get(10, float('nan')):.2f} | {'yes' if met else 'NO'} |")
    print(f"\ncommand: {' '.join([Path(sys.executable).name, *sys.argv])}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
