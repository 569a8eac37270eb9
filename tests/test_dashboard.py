"""The live dashboard (`grapevine dashboard`): a scenario's sides advancing together, their
controls, the words and pictures of the page; then the page itself in a real browser (on
Mesa 3.3 and 3.5: `make test-matrix` runs it on each Python).

The browser test starts the dashboard as a user would (a subprocess on a free port of
127.0.0.1), drives Debian's Chromium headless through Playwright, plays the months at the
stated rate, and saves screenshots in build/screenshots/python-X.Y/ (or
$GRAPEVINE_SCREENSHOT_DIR); it prints the folder.
"""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.errors import InputError
from sim.experiments.design import replication_seed
from sim.market import Market
from sim.outputs import dashboard
from sim.outputs.dashboard import pictures
from sim.outputs.dashboard.live import SideBySide
from sim.outputs.dashboard.settings import Control, apply_levers, controls, dashboard_settings, lever_values

ROOT = Path(__file__).resolve().parent.parent
SMALL = {"n_people": 600, "months": 6}


def small(scenario="quickstart", arms=None, **shared):
    """Settings of a scenario at a small size (the controls' starting values changed)."""
    settings = dashboard_settings(scenario, arms)
    settings["start"]["shared"].update({**SMALL, **shared})
    return settings


# --- what is compared --------------------------------------------------------------------------
def test_the_sides_are_the_scenarios_arms_with_the_baseline_first():
    settings = dashboard_settings("quickstart")
    assert [s["name"] for s in settings["sides"]] == ["ignore", "recover", "gifts"]
    assert settings["reference"] == "ignore" and settings["compare"] == "arms"
    assert settings["start"]["shared"]["n_people"] == 4000  # the scenario's size (below the cap)


def test_more_than_three_arms_show_the_baseline_and_the_first_two_others_unless_chosen():
    settings = dashboard_settings("recovery-effort")
    assert [s["name"] for s in settings["sides"]] == ["ignore", "effort-0.25", "effort-0.5"]
    assert any("effort-1" in note and "--arms" in note for note in settings["notes"])
    chosen = dashboard_settings("recovery-effort", ["ignore", "effort-1"])
    assert [s["name"] for s in chosen["sides"]] == ["ignore", "effort-1"]
    assert dashboard_settings("recovery-effort", ["effort-0.5", "effort-1"])["reference"] == "effort-0.5"


def test_a_wrong_choice_of_arms_is_refused_in_one_line():
    with pytest.raises(InputError, match="'care' is not an arm of quickstart: choose two or three of ignore, "
                                         "recover, gifts"):
        dashboard_settings("quickstart", ["ignore", "care"])
    with pytest.raises(InputError, match="name two or three different arms"):
        dashboard_settings("quickstart", ["ignore"])
    with pytest.raises(InputError, match="compares firms head to head"):
        dashboard_settings("head-to-head", ["Carer", "Ignorer"])


def test_head_to_head_shows_every_firm_of_one_market():
    settings = dashboard_settings("head-to-head")
    assert [s["name"] for s in settings["sides"]] == ["Carer", "Ignorer"]
    assert {s["run"] for s in settings["sides"]} == {"head_to_head"} and [s["firm"] for s in settings["sides"]] == [0, 1]
    live = SideBySide(small("head-to-head"))
    assert len(live.markets) == 1 and [f.name for f in live.markets["head_to_head"].firms] == ["Carer", "Ignorer"]
    assert "ServiceRecovery" in live.policies(live.sides[0]) and "ServiceRecovery" not in live.policies(live.sides[1])


def test_a_big_scenario_starts_smaller_and_says_so():
    settings = dashboard_settings("renewal-neglect")
    assert settings["start"]["shared"]["n_people"] == 5000
    assert any("10,000" in note for note in settings["notes"])
    assert dashboard_settings("renewal-neglect", people=8000)["start"]["shared"]["n_people"] == 8000


def test_a_firm_stated_in_customers_keeps_its_share_of_the_people_the_slider_sets():
    """calibrate-telco states 20,000 customers at a penetration of 30%: at 5,000 people the firm
    has 1,500 (the same market in miniature, sim.population.at_size)."""
    live = SideBySide(small("calibrate-telco", n_people=5_000))
    market = live.markets["today"]
    assert market.parameters.n_people == 5_000 and market.metrics["customers"][0] == 1_500


# --- the markets ----------------------------------------------------------------------------------
def test_at_the_scenarios_settings_each_arm_is_replication_1_of_grapevine_run():
    live = SideBySide(small())
    while live.step():
        pass
    results = sim.run_scenario("quickstart", replications=2, **SMALL)
    series = live.series("customers")
    profit = live.series("cumulative_profit")
    for side in live.sides:
        mine = results.timeseries[(results.timeseries["arm"] == side.name) & (results.timeseries["replication"] == 0)]
        assert list(series[side.name]) == list(mine["customers"]), side.name
        assert np.allclose(profit[side.name], mine["cumulative_profit"]), side.name


def test_the_arms_share_people_network_and_luck():
    live = SideBySide(small())
    markets = list(live.markets.values())
    for market in markets[1:]:
        assert np.array_equal(market.network.indices, markets[0].network.indices)
        assert np.array_equal(market.customers.firm, markets[0].customers.firm)  # month 0: policies not yet on
    assert len({float(series[0]) for series in live.series("customers").values()}) == 1


def test_the_replication_control_is_the_runs_replication_seed():
    live = SideBySide(small(replication=3))
    expected = Market(firms=live.settings["runs"]["ignore"]["firms"], seed=replication_seed(1, 2),
                      **{**live.settings["runs"]["ignore"]["market"], **SMALL, "agent_view_limit": 0})
    assert np.array_equal(live.markets["ignore"].network.indices, expected.network.indices)


def test_a_lever_changes_only_its_side_and_replays_it_to_the_month_shown():
    live = SideBySide(small())
    for _ in range(3):
        live.step()
    ignore, recover = live.markets["ignore"], live.markets["recover"]
    live.set("recover", "ServiceRecovery.effort", 0.3)
    assert live.markets["ignore"] is ignore and live.markets["recover"] is not recover
    assert live.markets["recover"].month == 3 and len(live.records["recover"]) == 4
    assert "ServiceRecovery(effort=0.3)" in live.policies(live.sides[1])
    live.set("gifts", "SmallGifts.value_share", 0.0)  # at its off value the policy stops
    assert "SmallGifts" not in live.policies(live.sides[2])


def test_a_shared_control_rebuilds_every_side_and_back_to_the_scenario_restores_it():
    live = SideBySide(small())
    live.step()
    before = dict(live.markets)
    live.set(None, "failure_rate", 0.1)
    assert all(live.markets[run] is not before[run] for run in live.runs) and live.month == 1
    assert all(market.firms[0].failure_rate == 0.1 for market in live.markets.values())
    live.set(None, "n_people", 700)
    assert all(market.network.n == 700 for market in live.markets.values())
    live.back_to_scenario()
    assert live.month == 0 and live.values == live.settings["start"]
    assert all(market.firms[0].failure_rate == sim.Firm().failure_rate for market in live.markets.values())


def test_an_arm_that_sets_a_shared_setting_itself_keeps_it(tmp_path):
    text = (ROOT / "scenarios" / "quickstart.yaml").read_text().replace(
        "    - name: gifts\n", "    - name: gifts\n      set: {market.complaint_probability: 0.9, firm.quality: 0.5}\n")
    (tmp_path / "own.yaml").write_text(text)
    settings = dashboard_settings(str(tmp_path / "own.yaml"))
    assert settings["own"] == {"gifts": ["complaint_probability", "quality"]}
    assert any("gifts sets complaint_probability, quality itself" in note for note in settings["notes"])
    settings["start"]["shared"].update(SMALL)
    live = SideBySide(settings)
    live.set(None, "complaint_probability", 0.1)
    live.set(None, "quality", 0.8)
    assert live.markets["ignore"].parameters.complaint_probability == 0.1
    assert live.markets["gifts"].parameters.complaint_probability == 0.9
    assert live.markets["gifts"].firms[0].quality == 0.5 and live.markets["recover"].firms[0].quality == 0.8


def test_an_unknown_control_is_refused():
    live = SideBySide(small())
    with pytest.raises(ValueError, match="'Telepathy' is not one of"):
        live.set("recover", "Telepathy", True)


def test_a_value_the_model_refuses_changes_nothing():
    live = SideBySide(small())
    live.step()
    markets = dict(live.markets)
    with pytest.raises(ValueError, match="n_people"):
        live.set(None, "n_people", 1)
    assert live.values["shared"]["n_people"] == SMALL["n_people"] and live.markets == markets


def test_the_months_stop_at_the_horizon():
    live = SideBySide(small())
    steps = 0
    while live.step():
        steps += 1
    assert steps == SMALL["months"] and live.finished and not live.step()


def test_the_running_difference_is_each_side_minus_the_reference():
    live = SideBySide(small())
    for _ in range(4):
        live.step()
    customers, profit = live.series("customers"), live.series("cumulative_profit")
    for difference in live.differences():
        assert difference.reference == "ignore"
        assert difference.customers == customers[difference.side][-1] - customers["ignore"][-1]
        assert difference.profit == pytest.approx(profit[difference.side][-1] - profit["ignore"][-1])
        assert difference.text().startswith(f"{difference.side} so far: {difference.customers:+,.0f} customers, ")
    assert live.differences()[0].text(currency="EUR").endswith("EUR profit")


def test_the_narration_says_what_the_month_counted():
    live = SideBySide(small(failure_rate=0.1))
    assert live.narration().startswith("Month 0:")
    live.step()
    month = {name: values[live.sides[1].firm] for name, values in live.records["recover"][-1].items()}
    text = live.narration()
    assert text.startswith("Month 1")
    assert (f"recover: {month['service_failures']:,.0f} failures; {month['negative_talkers']:,.0f} unhappy customers "
            f"told {month['negative_listeners']:,.0f} people") in text
    assert f"recoveries succeeded: {month['recoveries_succeeded']:,.0f}" in text


def test_a_wave_of_failures_is_told_and_ordinary_months_are_not():
    live = SideBySide(small(months=12))
    for _ in range(8):
        live.step()
        assert "wave" not in live.narration()
    for market in live.markets.values():
        market.firm_failure_rate[:] = 0.3  # the showcase's wave: one bad month
    live.step()
    assert "a wave of failures" in live.narration()


def test_the_month_counts_failures_talkers_and_listeners():
    market = Market(seed=4, n_people=800, failure_rate=0.1, agent_view_limit=0, warm_up_months=0)  # customers left to fail
    c = market.customers
    market.step()
    m = market.metrics
    assert m["service_failures"][0] == c.failed.sum() > 0  # this month's failures, whoever has left since
    assert 0 < m["negative_listeners"][0] <= m["messages_negative"][0]
    assert 0 < m["negative_talkers"][0] <= m["negative_listeners"][0]


# --- the controls -----------------------------------------------------------------------------------
def test_every_policy_lever_is_a_control_of_every_side():
    settings = dashboard_settings("quickstart")
    _, per_side = controls(settings)
    names = {control.name for control in per_side}
    for kind, policy in sim.Policy.registry.items():
        assert len([n for n in names if n == kind or n.startswith(f"{kind}.")]) == len(policy.levers), kind
    kinds = {control.name: control.kind for control in per_side}
    assert kinds["ServiceRecovery"] == "switch" and kinds["Upsell.target"] == "choice"
    assert kinds["ProactiveCheckIns.every_months"] == "slider"


@pytest.mark.parametrize("scenario", ["quickstart", "head-to-head", "recovery-effort", "product-defect",
                                      "renewal-neglect", "retention-vs-winback", "upsell-satisfied"])
def test_every_control_starts_where_its_slider_can_show_it(scenario):
    settings = dashboard_settings(scenario)
    shared, per_side = controls(settings)
    starts = [(c, settings["start"]["shared"][c.name]) for c in shared]
    starts += [(c, values[c.name]) for values in settings["start"]["sides"].values() for c in per_side]
    for control, value in starts:
        if control.kind == "slider":
            assert control.low <= value <= control.high, (control.name, value)
        elif control.kind == "choice":
            assert value in control.choices, (control.name, value)


def test_values_are_shown_with_their_units():
    assert Control("x", "Gift value", 0, 0.05, 0.0025, "share of price").shown(0.005) == "0.50% of price"
    assert Control("x", "Recovery effort", 0, 1, 0.05, "share of full effort").shown(0.8) == "80% of full effort"
    assert Control("x", "Check-in every", 0, 24, 1, "months", whole=True).shown(6) == "6 months"
    assert Control("x", "People", 500, 20000, 500, "people", whole=True).shown(4000) == "4,000 people"
    assert Control("x", "Service failures", 0, 0.2, 0.005, "share of customers a month").shown(0.015) \
        == "1.5% of customers a month"
    _, per_side = controls(dashboard_settings("quickstart"))
    assert all(c.unit for c in per_side if c.kind == "slider"), "every slider says its unit"


def test_at_their_starting_values_the_levers_give_the_scenarios_policies():
    scenario = sim.load_scenario(ROOT / "scenarios" / "retention-vs-winback.yaml")
    for arm in scenario.groups.names:
        policies = scenario.run_settings(arm)[0][0]["policies"]
        assert apply_levers(policies, lever_values(policies)) == policies, arm


def test_a_lever_at_its_off_value_turns_its_policy_off_and_on_again():
    for kind, policy in sim.Policy.registry.items():
        on = lever_values([])
        for lever in policy.levers:  # every lever of the policy on
            on[f"{kind}.{lever.setting}" if lever.setting else kind] = (
                True if lever.setting is None else (lever.choices or (lever.high,))[0])
        if policy.levers:
            assert kind in {p["kind"] for p in apply_levers([], on)}, kind
        for lever in policy.levers:
            if lever.setting is None or lever.off is not None:
                name = f"{kind}.{lever.setting}" if lever.setting else kind
                off = {**on, name: False if lever.setting is None else lever.off}
                assert kind not in {p["kind"] for p in apply_levers([], off)}, name


def test_two_switches_that_do_one_job_run_the_more_specific_policy():
    values = {**lever_values([]), "ServiceRecovery": True, "IgnoreUntilRenewal": True}
    assert [p["kind"] for p in apply_levers([], values)] == ["ServiceRecovery"]


def test_an_unknown_lever_is_refused():
    with pytest.raises(ValueError, match="'Telepathy' is not a policy lever"):
        apply_levers([], {"Telepathy": True})


# --- the pictures -----------------------------------------------------------------------------------
def test_a_large_network_is_drawn_as_a_sample_laid_out_once():
    market = Market(seed=2, n_people=5000, agent_view_limit=0)
    found = pictures.layout(market.network)
    assert found.people.size == pictures.SAMPLE and found.n_ties > pictures.SAMPLE  # friends of friends: tied
    assert pictures.layout(market.network) is found  # cached: never laid out per frame
    assert ((found.xy >= 0) & (found.xy <= pictures.SIZE)).all()
    small_market = Market(seed=2, n_people=120, agent_view_limit=0)
    assert pictures.layout(small_market.network).people.size == 120  # a small market: everyone


def test_the_network_picture_colours_the_sides_customers_by_mood():
    market = Market(seed=2, n_people=300, agent_view_limit=0)
    svg = pictures.network_people(pictures.layout(market.network), market, 0)
    ElementTree.fromstring(svg)
    c = market.customers
    moods = c.mood(market.parameters)
    for code, mood in enumerate(sim.customers.MOODS):
        count = (c.is_customer & (moods == code)).sum()
        if count:
            path = re.search(rf'd="([^"]*)" stroke="{pictures.MOOD_COLOURS[mood]}"', svg).group(1)
            assert path.count("h0") == count, mood


def test_a_chart_starts_at_zero_with_exact_ticks_and_months_along_x():
    svg = pictures.line_chart({"a": np.array([0.0, 4e5, 1.1e6]), "b": np.array([0.0, 3e5, 1.25e6])},
                              {"a": ("#000", ""), "b": ("#00f", "9 4")}, months=48, money_axis=True)
    texts = [t.text for t in ElementTree.fromstring(svg).iter("text")]
    assert "0" in texts and "month" in texts and "48" in texts
    assert "1.25 M" in texts and "1.2 M" not in texts
    negative = pictures.line_chart({"a": np.array([0.0, -5.0, 3.0])}, {"a": ("#000", "")}, months=12)
    ticks = [int(t.text) for t in ElementTree.fromstring(negative).iter("text")
             if t.text != "month" and float(t.get("x")) < pictures.LEFT]
    assert min(ticks) <= -5 and 0 in ticks and max(ticks) >= 3


# --- installing ---------------------------------------------------------------------------------------
def test_without_the_extra_the_command_says_how_to_install_it_from_the_checkout(monkeypatch, capsys):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "solara" else object())
    assert dashboard.serve("quickstart") == 2
    said = capsys.readouterr().err
    assert "make dashboard" in said and f"-m pip install -e '{ROOT}[dashboard]'" in said
    assert "grapevine[dashboard]" not in said  # the index's "grapevine" is another project


# --- in a real browser -------------------------------------------------------------------------
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
START_TIMEOUT = 120  # seconds for the server to answer (imports are slow on a busy 2-core machine)
UI_TIMEOUT = 60_000  # milliseconds for the page to show something
RATE, TOLERANCE, WINDOW = 5, 0.15, 4.0  # months a second stated; within 15% over a 4-second window


def _browser_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (Debian: apt-get install chromium; .ci/run does this as root)"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is missing (pip install -e '.[test]')"
    if importlib.util.find_spec("solara") is None:
        return f"the dashboard extra is missing: {dashboard.install_hint()}"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(*args):
    """`grapevine dashboard ARGS` on a free port: yields (url, printed output); stops it after."""
    reason = _browser_missing()
    if reason:
        pytest.skip(reason)
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "sim.cli", "dashboard", *args, "--port", str(port)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
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


@pytest.fixture(scope="module")
def quickstart_page():
    yield from _serve("quickstart")


@pytest.fixture(scope="module")
def head_to_head_page():
    yield from _serve("head-to-head", "--people", "1500")


@pytest.fixture(scope="module")
def screenshots(request) -> Path:
    """The folder of the screenshots (kept after the run: test artefacts), printed once."""
    chosen = os.environ.get("GRAPEVINE_SCREENSHOT_DIR")
    folder = Path(chosen) if chosen else ROOT / "build" / "screenshots" / f"python-{sys.version_info[0]}.{sys.version_info[1]}"
    folder.mkdir(parents=True, exist_ok=True)
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\nscreenshots of the dashboard: {folder}")
    return folder


def _browser(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


def _watch(page) -> list[str]:
    """Console errors and uncaught exceptions of the page, as they come."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _month(page) -> int:
    return int(page.locator('[data-key="month"]').text_content().split()[0])


@pytest.mark.browser
def test_the_arms_play_side_by_side_in_a_real_browser(quickstart_page, screenshots):
    from playwright.sync_api import expect, sync_playwright

    url, output = quickstart_page
    assert f"open {url}" in "".join(output), "the command says where to point the browser"
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            errors = _watch(page)
            page.goto(url)

            # the three arms side by side at month 0, with the scenario's settings
            month = page.locator('[data-key="month"]')
            expect(month).to_have_text("0 of 48", timeout=UI_TIMEOUT)
            for arm in ("ignore", "recover", "gifts"):
                expect(page.locator(f'[data-key="customers:{arm}"]')).to_be_visible()
            assert page.locator(".network svg.people").count() == 3
            assert page.locator("svg.chart").count() == 4
            chart_text = page.locator("svg.chart").first.locator("text").all_text_contents()
            assert "month" in chart_text and "0" in chart_text and "Step" not in chart_text
            effort = page.locator('[data-key="recover:ServiceRecovery.effort"]')
            expect(effort).to_have_text("80% of full effort")
            expect(page.locator('[data-key="shared:n_people"]')).to_have_text("4,000 people")
            expect(page.locator(".chart-title").filter(has_text="Profit to date")).to_have_text("Profit to date (EUR)")
            expect(page.locator('[data-key="narration"]')).to_contain_text("Month 0")
            page.screenshot(path=str(screenshots / "side-by-side-month-0.png"), full_page=True)

            # play at the stated rate: the months the browser shows advance at it
            page.get_by_role("button", name="▶ Play").click()
            page.wait_for_function("() => parseInt(document.querySelector('[data-key=\"month\"]').textContent) >= 3",
                                   timeout=UI_TIMEOUT)
            first, started = _month(page), time.monotonic()
            page.wait_for_timeout(WINDOW * 1000)
            last, ended = _month(page), time.monotonic()
            rate = (last - first) / (ended - started)
            assert RATE * (1 - TOLERANCE) <= rate <= RATE * (1 + TOLERANCE), f"{rate:.2f} months a second"
            expect(page.locator('[data-key="rate"]')).to_contain_text("months a second")
            page.screenshot(path=str(screenshots / "side-by-side-playing.png"), full_page=True)
            page.get_by_role("button", name="❚❚ Pause").click()
            expect(page.get_by_role("button", name="▶ Play")).to_be_visible(timeout=UI_TIMEOUT)
            paused = _month(page)
            page.wait_for_timeout(1500)
            assert _month(page) <= paused + 1, "the months go on after a pause"
            page.get_by_role("button", name="▶ Play").click()

            # a faster speed while playing plays on, to the horizon; then Restart
            page.get_by_role("button", name="10", exact=True).click()
            expect(month).to_have_text("48 of 48", timeout=UI_TIMEOUT)
            expect(page.locator('[data-key="rate"]')).to_have_text("the end", timeout=UI_TIMEOUT)
            expect(page.get_by_role("button", name="▶ Play")).to_be_disabled()
            assert page.locator('[data-key="narration"]').text_content().startswith("Month 48.")
            expect(page.locator('[data-key="month:recover"]')).to_contain_text("unhappy customers told")
            assert re.fullmatch(r"recover so far: [+-][\d,]+ customers, [+-]?[\d.,]+( K| M)? EUR profit",
                                page.locator('[data-key="difference:recover"]').text_content())
            page.get_by_role("button", name="Restart").click()
            expect(month).to_have_text("0 of 48", timeout=UI_TIMEOUT)
            expect(page.get_by_role("button", name="▶ Play")).to_be_enabled()
            page.get_by_role("button", name="Step").click()
            expect(month).to_have_text("1 of 48", timeout=UI_TIMEOUT)

            # a slider changes its own arm: recover's effort, let go at a fifth of the track
            at = _month(page)
            track = page.locator(".control").filter(has=effort).locator(".v-slider").bounding_box()
            page.mouse.click(track["x"] + track["width"] * 0.2, track["y"] + track["height"] / 2)
            expect(effort).to_have_text("20% of full effort", timeout=UI_TIMEOUT)
            recover = page.locator(".side").filter(has_text="runs: RenewalCall + ServiceRecovery")
            expect(recover).to_contain_text("effort=0.2", timeout=UI_TIMEOUT)
            expect(page.locator(".side").filter(has_text="the baseline")).to_contain_text("runs: RenewalCall")
            assert _month(page) == at, "a change replays the arm to the month shown"

            # the presenter view: no controls, large type
            page.get_by_role("button", name="▶ Play").click()
            page.wait_for_function("() => parseInt(document.querySelector('[data-key=\"month\"]').textContent) >= 30",
                                   timeout=UI_TIMEOUT)
            page.get_by_role("button", name="❚❚ Pause").click()
            page.get_by_role("button", name="Presenter view").click()
            expect(page.locator(".controls")).to_have_count(0, timeout=UI_TIMEOUT)
            size = page.locator(".narration").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
            assert size >= 26
            page.screenshot(path=str(screenshots / "presenter-view.png"), full_page=True)
            page.get_by_role("button", name="Controls view").click()

            # back to the scenario's settings: month 0, the scenario's effort
            page.get_by_role("button", name="Back to the scenario's settings").click()
            expect(month).to_have_text("0 of 48", timeout=UI_TIMEOUT)
            expect(page.locator('[data-key="recover:ServiceRecovery.effort"]')).to_have_text("80% of full effort")
            assert not errors, errors
        finally:
            browser.close()


@pytest.mark.browser
def test_head_to_head_shows_every_firm_in_a_real_browser(head_to_head_page, screenshots):
    from playwright.sync_api import expect, sync_playwright

    url, _ = head_to_head_page
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors = _watch(page)
            page.goto(url)
            expect(page.locator('[data-key="month"]')).to_have_text("0 of 60", timeout=UI_TIMEOUT)
            for firm in ("Carer", "Ignorer"):
                expect(page.locator(f'[data-key="customers:{firm}"]')).to_be_visible()
            expect(page.locator('[data-key="shared:n_people"]')).to_have_text("1,500 people")
            page.get_by_role("button", name="Step").click()
            expect(page.locator('[data-key="month"]')).to_have_text("1 of 60", timeout=UI_TIMEOUT)
            expect(page.locator('[data-key="difference:Carer"]')).to_contain_text("Carer so far:")
            page.screenshot(path=str(screenshots / "head-to-head.png"), full_page=True)
            assert not errors, errors
        finally:
            browser.close()
