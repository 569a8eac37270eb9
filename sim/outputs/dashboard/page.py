"""The page: Solara components over a `SideBySide` (needs the dashboard extra).

    top bar     the scenario, the month, play/pause, step, restart, speed, presenter view,
                and a button back to the scenario's settings
    controls    one card per side (its policy levers), one for the shared assumptions
    stage       what just happened (narration), each side against the reference so far,
                the network of each side coloured by mood, and charts on shared axes

Each browser tab has its own markets. Playing runs in a thread that steps every side, then
sleeps until the next month is due, so months come at the chosen rate whatever a frame costs
(up to what the machine can do: the bar shows the rate achieved).
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
import traceback
from collections import deque
from html import escape

import solara

from .frame import draw
from .live import SideBySide
from .pictures import side_styles
from .settings import Control, controls, dashboard_settings, reach_text

ENV = "GRAPEVINE_DASHBOARD_SETTINGS"  # the settings travel from `grapevine dashboard` to the server
RATES = (1, 2, 5, 10)  # months a second the room can choose
RATE = 5  # the stated rate: playing starts at it

CSS = """
.grapevine { font-size: 15px; color: #1a1a1a; }
.grapevine .bar { display: flex; flex-wrap: wrap; align-items: center; gap: 10px; padding: 8px 12px;
                  background: #f3f3f3; border-bottom: 1px solid #ddd; }
.grapevine .bar .title { font-size: 20px; font-weight: 700; margin-right: 12px; }
.grapevine .bar .month { font-size: 20px; font-variant-numeric: tabular-nums; min-width: 12em; }
.grapevine .bar .rate { color: #555; font-size: 13px; }
.grapevine .bar .v-btn { text-transform: none; letter-spacing: 0; }
.grapevine .panel { padding: 8px 12px; }
.grapevine .controls { width: 340px; min-width: 340px; padding: 6px 10px; border-right: 1px solid #ddd; }
.grapevine .controls .card { border: 1px solid #ddd; border-radius: 6px; padding: 6px 10px; margin-bottom: 10px; }
.grapevine .controls .card h3 { font-size: 16px; margin: 2px 0; }
.grapevine .controls .changes { color: #555; font-size: 13px; margin-bottom: 4px; }
.grapevine .control .label { color: #333; }
.grapevine .control .value { font-weight: 700; float: right; font-variant-numeric: tabular-nums; }
.grapevine .control .v-input { margin-top: 0; padding-top: 0; }
.grapevine .stage { flex: 1; min-width: 0; padding: 8px 14px; }
.grapevine .narration { font-size: 19px; font-weight: 700; line-height: 1.4; margin: 4px 0 4px 0; }
.grapevine .difference { font-size: 19px; font-weight: 700; margin: 2px 0; }
.grapevine .notes { color: #666; font-size: 13px; }
.grapevine .sides { display: grid; grid-template-columns: repeat(var(--columns), minmax(0, 1fr)); gap: 14px; }
.grapevine .side h3 { font-size: 18px; margin: 6px 0 0 0; }
.grapevine .side .changes { color: #555; font-size: 13px; min-height: 2.6em; }
.grapevine .network { position: relative; width: 100%; height: 30vh; min-height: 220px; }
.grapevine .told { font-size: 15px; min-height: 2.8em; line-height: 1.35; }
.grapevine .network svg { position: absolute; inset: 0; width: 100%; height: 100%; }
.grapevine .charts { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 14px; margin-top: 8px; }
.grapevine .chart-title { font-weight: 700; font-size: 15px; }
.grapevine svg.chart { width: 100%; height: auto; font-size: 19px; }
.grapevine svg.chart text { fill: #333; }
.grapevine .legend { display: flex; flex-wrap: wrap; gap: 6px 16px; font-size: 13px; color: #333; margin: 6px 0; }
.grapevine .legend .key i { display: inline-block; width: 12px; height: 12px; border-radius: 50%;
                            margin-right: 5px; vertical-align: -1px; }
.grapevine .legend svg { vertical-align: middle; margin-right: 5px; }
.grapevine.presenter { font-size: 20px; }
.grapevine.presenter .narration { font-size: 28px; }
.grapevine.presenter .difference { font-size: 34px; }
.grapevine.presenter .side h3 { font-size: 28px; }
.grapevine.presenter .chart-title { font-size: 22px; }
.grapevine.presenter .legend { font-size: 18px; }
.grapevine.presenter .network { height: 30vh; }
.grapevine.presenter .told { font-size: 21px; }
.grapevine.presenter .side .changes { font-size: 16px; }
"""


@functools.cache
def settings_from_environment() -> dict:
    text = os.environ.get(ENV)
    return json.loads(text) if text else dashboard_settings(None)


class Player:
    """The months played lately and when, for the rate achieved (one per page)."""

    def __init__(self):
        self.shown: deque[tuple[float, int]] = deque(maxlen=25)  # (time, month) of the frames played

    def achieved(self) -> float | None:
        if len(self.shown) < 3:
            return None
        (t0, m0), (t1, m1) = self.shown[0], self.shown[-1]
        return (m1 - m0) / (t1 - t0) if t1 > t0 else None


@solara.component
def Page():
    settings = settings_from_environment()
    live = solara.use_memo(lambda: SideBySide(settings), [])
    player = solara.use_memo(Player, [])
    frame = solara.use_reactive(live.version)  # what the stage last drew
    playing = solara.use_reactive(False)
    rate = solara.use_reactive(RATE)
    presenter = solara.use_reactive(False)
    resets = solara.use_reactive(0)  # controls start again from the values (back to the scenario)
    problem = solara.use_reactive("")

    def play(cancel: threading.Event):
        if not playing.value:
            return
        interval = 1.0 / rate.value
        player.shown.clear()
        due = time.monotonic()
        try:
            while not cancel.is_set() and playing.value:
                if not live.step():  # the horizon: playing stops
                    playing.value = False
                    break
                player.shown.append((time.monotonic(), live.month))
                frame.value = live.version
                due += interval
                wait = due - time.monotonic()
                if wait > 0:
                    cancel.wait(wait)
                elif wait < -interval:  # a month late: go on from now, no burst to catch up
                    due = time.monotonic()
        except Exception as error:  # shown on the page; the traceback goes to the server's log
            traceback.print_exc()
            problem.value = f"stopped: {error}"
            playing.value = False
        # cancelled: a pause, or a new speed (the next thread plays on at it)

    solara.use_thread(play, dependencies=[playing.value, rate.value], intrusive_cancel=False)

    def refresh():
        frame.value = live.version

    def step():
        if not playing.value:
            live.step()
            refresh()

    def restart():
        playing.value, problem.value = False, ""
        live.restart()
        refresh()

    def back_to_scenario():
        playing.value, problem.value = False, ""
        live.back_to_scenario()
        resets.value += 1
        refresh()

    def change(side: str | None, name: str, value):
        try:
            live.set(side, name, value)
        except ValueError as error:  # a combination the model refuses: said on the page, nothing changed
            problem.value = f"{side or 'every side'}: {error}"
        refresh()

    solara.Title(f"Grapevine: {settings['scenario']}")
    solara.Style(CSS)
    with solara.Column(classes=["grapevine", "presenter" if presenter.value else "normal"], gap="0px"):
        with solara.Row(classes=["bar"], gap="10px"):
            solara.HTML(tag="span", unsafe_innerHTML=escape(settings["title"]), classes=["title"])
            Transport(live, frame, player, playing, step, restart)
            with solara.Row(gap="2px", style={"align-items": "center", "background": "transparent"}):
                solara.HTML(tag="span", unsafe_innerHTML="months a second:&nbsp;")
                for choice in RATES:
                    solara.Button(str(choice), on_click=lambda choice=choice: rate.set(choice), small=True,
                                  color="primary" if rate.value == choice else None, depressed=True)
            solara.Button("Presenter view" if not presenter.value else "Controls view",
                          on_click=lambda: presenter.set(not presenter.value), outlined=True)
            solara.Button("Back to the scenario's settings", on_click=back_to_scenario, outlined=True)
        if problem.value:
            solara.Error(problem.value)
        with solara.Row(gap="0px", style={"align-items": "flex-start"}):
            if not presenter.value:
                Controls(live, change, resets.value).key(f"controls-{resets.value}")
            Stage(live, frame)


@solara.component
def Transport(live: SideBySide, frame, player: Player, playing, step, restart):
    """The month, the rate achieved, and play/pause, step and restart (redrawn with every frame)."""
    frame.value  # noqa: B018  (subscribes to the frames)
    achieved = player.achieved() if playing.value else None
    text = f"playing at {achieved:.1f} months a second" if achieved else ("paused" if not live.finished else "the end")
    with solara.Row(gap="10px", style={"align-items": "center", "background": "transparent"}):
        solara.HTML(tag="div", classes=["month"], unsafe_innerHTML=(
            f'Month <b data-key="month">{live.month} of {live.months}</b>'
            f'<div class="rate" data-key="rate">{text}</div>'))
        solara.Button("❚❚ Pause" if playing.value else "▶ Play", color="primary",
                      on_click=lambda: playing.set(not playing.value), disabled=live.finished and not playing.value)
        solara.Button("Step", on_click=step, disabled=playing.value or live.finished)
        solara.Button("Restart", on_click=restart)


# --- the controls -----------------------------------------------------------------------------------
@solara.component
def Controls(live: SideBySide, change, resets: int):
    shared, per_side = controls(live.settings)
    in_play = set(live.settings["levers_in_play"])
    word = "baseline" if live.settings["compare"] == "arms" else "reference"
    with solara.Column(classes=["controls"], gap="0px"):
        styles = side_styles([side.name for side in live.sides], live.reference)
        for side in live.sides:
            colour, _ = styles[side.name]

            def view(control, side=side.name):
                ControlView(control, live.values["sides"][side][control.name],
                            lambda value, name=control.name: change(side, name, value),
                            f"{side}:{control.name}", live.settings)

            with solara.Column(classes=["card"], gap="0px"):
                solara.HTML(tag="h3", unsafe_innerHTML=f'<span style="color:{colour}">&#9632;</span> '
                                                       f'{escape(side.name)}'
                                                       f'{f" ({word})" if side.name == live.reference else ""}')
                solara.HTML(tag="div", classes=["changes"], unsafe_innerHTML=escape(side.changes))
                for control in per_side:
                    if control.name in in_play or control.name in ("quality", "failure_rate"):
                        view(control)
                with solara.Details(summary="More policies"):
                    for control in per_side:
                        if not (control.name in in_play or control.name in ("quality", "failure_rate")):
                            view(control)
        with solara.Column(classes=["card"], gap="0px"):
            solara.HTML(tag="h3", unsafe_innerHTML="Every side")
            for control in shared:
                ControlView(control, live.values["shared"][control.name],
                            lambda value, name=control.name: change(None, name, value),
                            f"shared:{control.name}", live.settings)
            notes = "".join(f"<br>Note: {escape(note)}." for note in live.settings["notes"])
            solara.HTML(tag="div", classes=["notes"], unsafe_innerHTML=(
                "A change re-runs what it changes from month 0 to the month shown, with the same people, "
                f"network and luck. From {escape(live.settings['source'])}.{notes}"))


@solara.component
def ControlView(control: Control, value, on_change, key: str, settings: dict):
    """A control with its value and unit written beside its label."""
    with solara.Column(classes=["control"], gap="0px"):
        if control.kind == "switch":
            solara.Checkbox(label=control.label, value=bool(value), on_value=on_change)
        elif control.kind == "choice":
            solara.HTML(tag="div", unsafe_innerHTML=_label(control, control.shown(value), key))
            solara.Select(label="", values=list(control.choices), value=value, on_value=on_change, dense=True)
        else:
            SliderView(control, value, on_change, key, settings)


@solara.component
def SliderView(control: Control, value, on_change, key: str, settings: dict):
    """A slider applies its value when it is let go (a change re-runs markets: not on every
    pixel of a drag); the value beside the label follows the drag."""
    shown = solara.use_reactive(value)
    text = reach_text(settings, int(shown.value)) if control.name == "negative_reach" else control.shown(shown.value)
    solara.HTML(tag="div", unsafe_innerHTML=_label(control, text, key))
    slider = solara.v.Slider(v_model=shown.value, min=control.low, max=control.high, step=control.step,
                             on_v_model=lambda v: shown.set(control.clamp(v)), hide_details=True)
    solara.v.use_event(slider, "change", lambda *event: on_change(control.clamp(event[-1])))


def _label(control: Control, text: str, key: str) -> str:
    return (f'<span class="label">{escape(control.label)}</span>'
            f'<span class="value" data-key="{escape(key)}">{escape(text)}</span>')


# --- the stage --------------------------------------------------------------------------------------
@solara.component
def Stage(live: SideBySide, frame):
    frame.value  # noqa: B018  (redrawn with every frame)
    drawn = draw(live)
    with solara.Column(classes=["stage"], gap="0px"):
        solara.HTML(tag="div", classes=["narration"], unsafe_innerHTML=f'<span data-key="narration">'
                                                                       f'{escape(drawn.headline)}</span>')
        for difference, colour in drawn.differences:
            solara.HTML(tag="div", classes=["difference"], unsafe_innerHTML=(
                f'<span style="color:{colour}" data-key="difference:{escape(difference.side)}">'
                f'{escape(difference.text(drawn.currency))}</span> '
                f'<span style="font-weight:400;color:#555">vs {escape(difference.reference)}</span>'))
        with solara.Div(classes=["sides"], style={"--columns": str(min(len(drawn.sides), 3))}):
            for side in drawn.sides:
                with solara.Column(classes=["side"], gap="0px"):
                    solara.HTML(tag="h3", unsafe_innerHTML=(
                        f'<span style="color:{side.colour}">{escape(side.name)}</span> '
                        f'<span style="font-weight:400" data-key="customers:{escape(side.name)}">'
                        f'{side.customers:,.0f} customers</span>'))
                    solara.HTML(tag="div", classes=["changes"],
                                unsafe_innerHTML=f'{escape(side.changes)}<br>runs: {escape(side.policies)}')
                    solara.HTML(tag="div", classes=["told"], unsafe_innerHTML=(
                        f'<span data-key="month:{escape(side.name)}">{escape(side.month)}</span>'))
                    with solara.Div(classes=["network"]):
                        solara.HTML(tag="div", unsafe_innerHTML=side.ties)  # the same text every frame: not resent
                        solara.HTML(tag="div", unsafe_innerHTML=side.people)
        solara.HTML(tag="div", classes=["legend"], unsafe_innerHTML=drawn.mood_legend)
        solara.HTML(tag="div", classes=["legend"], unsafe_innerHTML=drawn.side_legend)
        with solara.Div(classes=["charts"]):
            for title, chart in drawn.charts:
                with solara.Column(gap="0px"):
                    solara.HTML(tag="div", classes=["chart-title"], unsafe_innerHTML=escape(title))
                    solara.HTML(tag="div", unsafe_innerHTML=chart)
