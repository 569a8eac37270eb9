"""The live dashboard: a scenario's arms (or its firms) side by side, month by month, in the browser.

    grapevine dashboard                        # quickstart: ignore, recover and gifts side by side
    grapevine dashboard renewal-neglect        # the baseline and the first two other arms
    grapevine dashboard recovery-effort --arms ignore,effort-0.5,effort-1
    grapevine dashboard head-to-head           # one market, every firm

Markets built with the same seed share people, network and luck, so the arms advance together
and the room watches them diverge: customers, money and word of mouth on shared axes, each
arm's network coloured by mood, the running difference from the baseline, and a line saying
what just happened. Sliders change the arm they belong to; the market's assumptions change all.

    settings.py   what is compared and where each control starts (from the scenario file)
    live.py       the markets advancing together; differences and narration
    pictures.py   the network (a cached layout of a sample) and the charts, as SVG
    frame.py      one frame of the stage: what the page shows now (the bench times it)
    page.py       the Solara page (the `dashboard` extra)

The server is Solara's (`solara run`), bound to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

from .settings import dashboard_settings

HOST, PORT = "127.0.0.1", 8765
ROOT = Path(__file__).resolve().parents[3]  # the checkout, when Grapevine runs from one


def install_hint() -> str:
    """How to add the dashboard extra to the Python that runs Grapevine (from the checkout if there is one)."""
    if (ROOT / "pyproject.toml").exists() and (ROOT / "sim").is_dir():
        return (f"from the checkout: `make dashboard` (installs it and starts quickstart), or "
                f"`{sys.executable} -m pip install -e '{ROOT}[dashboard]'`")
    return f"`{sys.executable} -m pip install 'grapevine-abm[dashboard]'`"


def serve(scenario: str | None = None, host: str = HOST, port: int = PORT, open_browser: bool = False,
          arms: list[str] | None = None, people: int | None = None) -> int:
    """Start Solara's server on host:port with the scenario's sides (blocks until Ctrl-C)."""
    if importlib.util.find_spec("solara") is None:
        print("error: the dashboard needs its extra (Solara, the web page framework): "
              f"{install_hint()}", file=sys.stderr)
        return 2
    settings = dashboard_settings(scenario, arms, people)  # a bad scenario or arm stops here, in one line
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = "THIS-MACHINE"
        print(f"warning: listening on every interface ({host}): anyone who can reach this machine "
              f"can use the dashboard", file=sys.stderr)
    url = f"http://{shown}:{port}/"
    sides = ", ".join(side["name"] for side in settings["sides"])
    print(f"Grapevine dashboard: {settings['scenario']} ({sides}) from {settings['source']}: open {url} "
          f"in your browser (bound to {host}:{port}; Ctrl-C stops it)", flush=True)
    for note in settings["notes"]:
        print(f"note: {note}", flush=True)
    from .page import ENV

    env = {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false", "SOLARA_THEME_SHOW_BANNER": "false", **os.environ,
           ENV: json.dumps(settings)}
    command = [sys.executable, "-m", "solara", "run", "sim.outputs.dashboard.page:Page", "--host", host,
               "--port", str(port), "--production", "--no-check-version", "--open" if open_browser else "--no-open",
               "--log-level", "warning"]
    sys.stdout.flush(), sys.stderr.flush()
    os.execvpe(command[0], command, env)  # the server takes this process over (same pid, Ctrl-C stops it)
    return 0  # pragma: no cover


__all__ = ["dashboard_settings", "serve", "install_hint"]
