"""The live dashboard (`grapevine dashboard`): settings from scenarios, and the page in a real browser
(on Mesa 3.3 and 3.5: `make test-matrix` runs it on each Python).

The browser test starts the dashboard as a user would (a subprocess on a free port of
127.0.0.1), drives Debian's Chromium headless through Playwright, and saves a screenshot
(in pytest's tmp dir, or in $GRAPEVINE_SCREENSHOT_DIR when set).
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import sim

import pytest

from sim.outputs.dashboard import (DashboardMarket, dashboard_settings, initial_values, model_params,
                                   policy_levers, summary_rows)

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
START_TIMEOUT = 120  # seconds for the server to answer (imports are slow on a busy 2-core machine)
UI_TIMEOUT = 60_000  # milliseconds for the page to show something


# --- without a browser: what the sliders start at and what they build -------------------------
def test_package_defaults_give_a_small_drawable_market():
    settings = dashboard_settings(None)
    values = initial_values(settings)
    assert values["n_people"] <= 1000
    assert not values["ServiceRecovery"] and not values["IgnoreUntilRenewal"]
    market = DashboardMarket(**{**values, "n_people": 120, "months": 3})
    assert len(market.agents) == 120  # every person is a Mesa agent on the network grid
    assert market.firms[0].policies == ()
    market.step()
    assert summary_rows(market)["This month"][0][2] == "1 of 3"


def test_the_dashboards_market_defaults_are_the_packages():
    market = DashboardMarket(n_people=120, months=3)  # every other setting left at its default
    package, firm = sim.MarketParameters(), sim.Firm()
    assert (market.firms[0].quality, market.firms[0].failure_rate) == (firm.quality, firm.failure_rate)
    for name in ("negative_reach_min", "negative_reach_max", "relay_probability", "complaint_probability",
                 "contract_months"):
        assert getattr(market.parameters, name) == getattr(package, name), name
    values = initial_values(dashboard_settings(None))  # the sliders start where the constructor does
    assert (values["failure_rate"], values["quality"]) == (firm.failure_rate, firm.quality)
    assert values["months"] == package.months


def test_scenario_defaults_come_from_the_baseline_arm_and_first_firm():
    quick = dashboard_settings("quickstart")
    assert quick["firm_name"] == "Telco" and quick["levers"]["RenewalCall"] is True
    assert quick["levers"]["ServiceRecovery"] is False
    assert quick["market"]["months"] == 48 and quick["market"]["contract_months"] == 12
    duel = dashboard_settings(str(ROOT / "scenarios" / "head-to-head.yaml"))
    assert duel["firm_name"] == "Carer"
    assert duel["levers"]["ServiceRecovery"] is True and duel["levers"]["ServiceRecovery.effort"] == 0.7


def test_every_policy_with_levers_has_a_control():
    params = model_params(dashboard_settings(None))
    for kind, policy in sim.Policy.registry.items():
        controls = [name for name in params if name == kind or name.startswith(f"{kind}.")]
        assert len(controls) == len(policy.levers), kind
    assert params["ServiceRecovery"]["type"] == "Checkbox"
    assert params["ProactiveCheckIns.every_months"]["type"] == "SliderInt"
    assert params["Upsell.target"]["values"] == ["off", "satisfied", "everyone"]


def test_every_lever_turns_its_policy_on():
    values = initial_values(dashboard_settings(None))
    values.update(n_people=60, months=2, negative_reach=20, failure_rate=0.1, relay_probability=0.3)
    values.update({"ServiceRecovery": True, "ServiceRecovery.effort": 0.9, "SmallGifts.value_share": 0.01,
                   "ProactiveCheckIns.every_months": 6, "RetentionOffers.discount": 0.25,
                   "WinBackOffers.discount": 0.3, "Upsell.target": "everyone"})
    market = DashboardMarket(**values)
    kinds = {type(policy).__name__: policy for policy in market.firms[0].policies}
    assert set(kinds) == {"ServiceRecovery", "SmallGifts", "ProactiveCheckIns", "RetentionOffers",
                          "WinBackOffers", "Upsell"}
    assert kinds["ServiceRecovery"].effort == 0.9 and kinds["Upsell"].target == "everyone"
    assert kinds["ProactiveCheckIns"].every_months == 6 and kinds["WinBackOffers"].discount == 0.3
    assert market.firms[0].failure_rate == 0.1
    low, high = market.parameters.negative_reach_min, market.parameters.negative_reach_max
    assert low <= 20 <= high
    assert market.parameters.relay_probability == 0.3
    market.step()


def test_a_lever_at_its_off_value_turns_its_policy_off():
    values = initial_values(dashboard_settings("quickstart"))
    values.update(n_people=60, months=2)
    assert [type(p).__name__ for p in DashboardMarket(**values).firms[0].policies] == ["RenewalCall"]
    values = initial_values(dashboard_settings(None))  # no policy on: each lever alone
    values.update(n_people=60, months=2)
    for name, (policy, lever) in policy_levers().items():
        on = {**values, name: True if lever.setting is None else (lever.choices or (lever.high,))[0]}
        off = {**on, name: False if lever.setting is None else lever.off}
        ran = {type(p).__name__ for p in DashboardMarket(**on).firms[0].policies}
        if len(policy.levers) == 1:  # its only lever
            assert policy.__name__ in ran, name
        if lever.setting is None or lever.off is not None:
            assert policy.__name__ not in {type(p).__name__ for p in DashboardMarket(**off).firms[0].policies}, name


def test_two_switches_that_do_one_job_run_the_more_specific_policy():
    values = initial_values(dashboard_settings(None))
    values.update({"n_people": 60, "months": 2, "ServiceRecovery": True, "IgnoreUntilRenewal": True})
    assert [type(p).__name__ for p in DashboardMarket(**values).firms[0].policies] == ["ServiceRecovery"]


def test_an_unknown_lever_is_refused():
    with pytest.raises(ValueError, match="'Telepathy' is not a policy lever"):
        DashboardMarket(n_people=60, months=2, Telepathy=True)


def test_every_slider_starts_inside_its_range():
    for scenario in (None, "quickstart", "head-to-head", "recovery-effort", "product-defect"):
        for name, spec in model_params(dashboard_settings(scenario)).items():
            if isinstance(spec, dict) and spec.get("type", "").startswith("Slider"):
                assert spec["min"] <= spec["value"] <= spec["max"], (scenario, name)
            elif isinstance(spec, dict) and spec.get("type") == "Select":
                assert spec["value"] in spec["values"], (scenario, name)


# --- in a real browser -------------------------------------------------------------------------
def _browser_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (Debian: apt-get install chromium; .ci/run does this as root)"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is missing (pip install -e '.[test]')"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def dashboard():
    """`grapevine dashboard quickstart` on a free port: yields (url, printed output)."""
    reason = _browser_missing()
    if reason:
        pytest.skip(reason)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "dashboard", "quickstart", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                reader.join(5)
                pytest.fail(f"the dashboard exited with {process.returncode}:\n{''.join(output)}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the dashboard did not answer on {url} within {START_TIMEOUT} s:\n{''.join(output)}")
            time.sleep(0.5)
        yield url, output
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture
def screenshot_dir(tmp_path) -> Path:
    chosen = os.environ.get("GRAPEVINE_SCREENSHOT_DIR")
    folder = Path(chosen) if chosen else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _chart_images(page) -> list[str]:
    """The drawn figures (network and charts): PNG images of real size."""
    return page.evaluate(
        """() => Array.from(document.images)
                 .filter(i => i.complete && i.naturalWidth > 200 && i.naturalHeight > 150)
                 .map(i => i.src)"""
    )


@pytest.mark.browser
def test_dashboard_in_a_real_browser(dashboard, screenshot_dir):
    from playwright.sync_api import expect, sync_playwright

    url, output = dashboard
    assert f"open {url}" in "".join(output), "the command says where to point the browser"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1300})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(url)

            # the page loads: title bar, controls, the summary of the market
            expect(page.get_by_text("Grapevine: Telco")).to_be_visible(timeout=UI_TIMEOUT)
            month = page.locator('[data-key="month"]')
            expect(month).to_have_text("0 of 48", timeout=UI_TIMEOUT)
            expect(page.locator('[data-key="policies"]')).to_have_text("RenewalCall")

            # the charts render: the network and four charts are drawn images
            page.wait_for_function(
                """() => Array.from(document.images)
                     .filter(i => i.complete && i.naturalWidth > 200 && i.naturalHeight > 150).length >= 5""",
                timeout=UI_TIMEOUT,
            )
            charts_before = _chart_images(page)

            # move a slider (failure rate, 0 to 0.2: a click in the middle of its track) ...
            control = page.locator(".v-input").filter(has_text="Failure rate")
            slider = control.locator("[role=slider]")
            default = f"{sim.Firm().failure_rate:g}"  # the quickstart firm keeps the default failure rate
            expect(slider).to_have_attribute("aria-valuenow", default)
            track = control.locator(".v-slider").bounding_box()
            page.mouse.click(track["x"] + track["width"] * 0.5, track["y"] + track["height"] / 2)
            expect(slider).to_have_attribute("aria-valuenow", "0.1")
            expect(page.locator('[data-key="failure_rate"]')).to_have_text(default)  # not applied yet

            # ... Reset builds a market with it, Step runs a month: the shown values change
            page.get_by_role("button", name="Reset").click()
            expect(page.locator('[data-key="failure_rate"]')).to_have_text("0.1", timeout=UI_TIMEOUT)
            expect(month).to_have_text("0 of 48")
            page.get_by_role("button", name="Step").click()
            expect(month).to_have_text("1 of 48", timeout=UI_TIMEOUT)
            page.get_by_role("button", name="Step").click()
            expect(month).to_have_text("2 of 48", timeout=UI_TIMEOUT)
            page.wait_for_function(
                """(before) => {
                     const now = Array.from(document.images)
                       .filter(i => i.complete && i.naturalWidth > 200 && i.naturalHeight > 150).map(i => i.src);
                     return now.length >= 5 && now.filter(src => !before.includes(src)).length >= 4;
                   }""",
                arg=charts_before, timeout=UI_TIMEOUT,
            )  # the charts were redrawn with the new months

            # ▶ runs month after month until ❚❚ pauses it
            page.get_by_role("button", name="▶").click()
            page.wait_for_function(
                """() => parseInt(document.querySelector('[data-key="month"]').textContent) >= 4""",
                timeout=UI_TIMEOUT,
            )
            page.get_by_role("button", name="❚❚").click()
            expect(page.get_by_role("button", name="▶")).to_be_visible(timeout=UI_TIMEOUT)
            paused_at = int(month.text_content().split()[0])
            settled = None
            for _ in range(UI_TIMEOUT // 2000):  # Mesa's play loop may finish one more month after ❚❚
                page.wait_for_timeout(2000)
                now = month.text_content()
                if now == settled:
                    break
                settled = now
            assert settled == month.text_content(), "the month still moves after ❚❚"
            assert int(settled.split()[0]) <= paused_at + 2 < 48, (paused_at, settled)

            shot = screenshot_dir / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot: {shot}")
            assert shot.stat().st_size > 20_000
            assert not errors, errors
        finally:
            browser.close()
