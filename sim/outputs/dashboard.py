"""The live dashboard: a small market on Mesa's SolaraViz, with sliders for the levers.

    grapevine dashboard                 # package defaults
    grapevine dashboard quickstart      # defaults from a scenario (first firm, baseline arm)

Controls set the firm's policies, one per lever that the policy classes declare
(`sim.policies.Lever`: a switch, a slider or a choice, each with the value that turns the
policy off), and the main market assumptions (people, quality, failure rate, negative
reach, contract length, ...). A new policy's levers appear without editing this file.
Moving a slider changes the
settings; Reset builds a new market from them (the engine is not changed in place), Step
runs one month and ▶ runs month after month. The network is coloured by mood and the charts
show customers, moods, word of mouth and money month by month.

The market is kept small (at most `MAX_PEOPLE` people) so that every person can be drawn.
The server is Solara's (`solara run`), bound to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from typing import Any

import networkx as nx

from ..customers import MOODS
from ..firm import Firm
from ..market import Market
from ..parameters import MarketParameters
from ..policies import Lever, Policy

try:  # the dashboard extra: `pip install 'grapevine[dashboard]'` (mesa[viz]: solara, altair)
    import solara
except ImportError:  # pragma: no cover - the rest of Grapevine works without it
    solara = None

ENV = "GRAPEVINE_DASHBOARD_SETTINGS"  # the settings travel from `grapevine dashboard` to the server
DEFAULT_PEOPLE, MIN_PEOPLE, MAX_PEOPLE = 300, 50, 1000
HOST, PORT = "127.0.0.1", 8765

MOOD_COLOURS = {
    "prospect": "#c9c9c9",
    "dissatisfied": "#d62728",
    "neutral": "#ffbf00",
    "satisfied": "#8fd175",
    "delighted": "#1a7f37",
}


# --- the policy levers, from what the policy classes declare -------------------------------------
def policy_levers() -> dict[str, tuple[type[Policy], Lever]]:
    """Every lever of every known policy, by control name: 'Kind' (a switch) or 'Kind.setting'."""
    return {
        kind if lever.setting is None else f"{kind}.{lever.setting}": (policy, lever)
        for kind, policy in Policy.registry.items()
        for lever in policy.levers
    }


def _is_off(lever: Lever, value) -> bool:
    return value is False if lever.setting is None else lever.off is not None and value == lever.off


def _lever_value(policy: type[Policy], lever: Lever, settings: dict | None):
    """What the control starts at: the policy's setting if it runs (`settings`), else its off value."""
    if lever.setting is None:
        return settings is not None
    if settings is None and lever.off is not None:
        return lever.off
    return (settings or {}).get(lever.setting, policy.model_fields[lever.setting].default)


def policies_from_levers(values: dict[str, Any], policy_settings: dict[str, dict]) -> list[dict]:
    """The firm's policies (as {kind: ...} mappings) from the control values: a policy runs
    when it has controls and none of them is at its off value."""
    levers = policy_levers()
    unknown = sorted(set(values) - set(levers))
    if unknown:
        raise ValueError(f"dashboard setting {unknown[0]!r} is not a policy lever: choose one of {', '.join(levers)}")
    chosen: dict[str, dict | None] = {}
    for name, (policy, lever) in levers.items():
        kind = policy.__name__
        spec = chosen.setdefault(kind, {"kind": kind, **policy_settings.get(kind, {})})
        value = values.get(name, _lever_value(policy, lever, None))
        if spec is None or _is_off(lever, value):
            chosen[kind] = None
        elif lever.setting is not None:
            spec[lever.setting] = value
    # two switches that do one job (ServiceRecovery and IgnoreUntilRenewal both answer complaints):
    # the policy that does fewer jobs runs, the other is left out
    specs = sorted((spec for spec in chosen.values() if spec is not None),
                   key=lambda spec: len(Policy.registry[spec["kind"]].jobs))
    taken: set[str] = set()
    kept = []
    for spec in specs:
        jobs = set(Policy.registry[spec["kind"]].jobs)
        if not jobs & taken:
            kept.append(spec)
            taken |= jobs
    return kept


def _control(policy: type[Policy], lever: Lever, value) -> dict[str, Any]:
    """SolaraViz's control of one lever: a checkbox, a select or a slider."""
    label = f"{lever.label} ({lever.unit})" if lever.unit else lever.label
    if lever.setting is None:
        return {"type": "Checkbox", "label": label, "value": bool(value)}
    if lever.choices:
        values = [*([] if lever.off is None else [lever.off]), *lever.choices]
        return {"type": "Select", "label": label, "value": value if value in values else values[0], "values": values}
    whole = policy.model_fields[lever.setting].annotation is int
    kind, cast = ("SliderInt", int) if whole else ("SliderFloat", float)
    value = cast(value)  # a scenario's setting beyond the lever's range widens it, never moves
    low, high = min(cast(lever.low), value), max(cast(lever.high), value)
    return {"type": kind, "label": label, "value": value, "min": low, "max": high, "step": cast(lever.step)}


# --- the model behind the page ----------------------------------------------------------------
_FIRM, _MARKET = Firm(), MarketParameters()
_REACH_MIDDLE = (_MARKET.negative_reach_min + _MARKET.negative_reach_max) // 2  # the "Negative reach" slider


class DashboardMarket(Market):
    """A one-firm `Market` built from flat slider values (SolaraViz rebuilds it on Reset).

    The policy levers come as keywords named by `policy_levers` ('ServiceRecovery',
    'ServiceRecovery.effort', ...); a policy whose levers are not given is not run.
    `market_settings`, `firm_settings` and `policy_settings` carry what the sliders do not
    show (from the scenario file), so a scenario's other assumptions are kept.
    """

    def __init__(
        self,
        *,
        seed: int = 1,
        n_people: int = DEFAULT_PEOPLE,
        quality: float = _FIRM.quality,  # every default is the package's (sim.firm, sim.parameters)
        failure_rate: float = _FIRM.failure_rate,
        negative_reach: int = _REACH_MIDDLE,
        reach_below: int = _REACH_MIDDLE - _MARKET.negative_reach_min,
        reach_above: int = _MARKET.negative_reach_max - _REACH_MIDDLE,
        relay_probability: float = _MARKET.relay_probability,
        complaint_probability: float = _MARKET.complaint_probability,
        contract_months: int = _MARKET.contract_months,
        months: int = _MARKET.months,
        market_settings: dict | None = None,
        firm_settings: dict | None = None,
        policy_settings: dict | None = None,
        **kwargs: Any,  # the policy levers by control name (Mesa's SolaraViz accepts a catch-all only by this name)
    ):
        policies = policies_from_levers(kwargs, policy_settings or {})
        firm = Firm(**{**(firm_settings or {}), "quality": quality, "failure_rate": failure_rate,
                       "policies": policies})
        n_people = int(n_people)
        market = dict(market_settings or {})
        market.update(
            n_people=n_people,
            negative_reach_min=max(0, int(negative_reach) - int(reach_below)),
            negative_reach_max=int(negative_reach) + int(reach_above),
            relay_probability=relay_probability,
            complaint_probability=complaint_probability,
            contract_months=int(contract_months),
            months=int(months),
            agent_view_limit=max(n_people, MarketParameters().agent_view_limit),  # every person drawn
        )
        super().__init__(firms=[firm], seed=int(seed), **market)
        _place_nodes(self)


def _place_nodes(market: Market) -> None:
    """Lay the network out once per market (Mesa's drawer would re-run the layout every frame)."""
    grid = getattr(market, "grid", None)
    if grid is None:
        return
    graph = grid.G
    graph.graph["pos"] = nx.spring_layout(graph, seed=1, iterations=35)


def _cached_layout(graph, **_):
    return graph.graph.get("pos") or nx.spring_layout(graph, seed=1, iterations=35)


# --- defaults: package or scenario ----------------------------------------------------------
def dashboard_settings(scenario: str | None = None) -> dict[str, Any]:
    """Starting values of every slider and the fixed settings, from a scenario or the package.

    From a scenario: the market's assumptions and, for an arms comparison, the compared firm
    with the baseline arm's policies; for a head-to-head, the first firm. People are capped
    at `MAX_PEOPLE` (and start at no more than `DEFAULT_PEOPLE`) so that the network can be drawn.
    """
    market = MarketParameters()
    firm: dict[str, Any] = Firm().model_dump(mode="json")
    source = "package defaults"
    if scenario:
        from ..scenario import find_scenario, load_scenario

        path = find_scenario(scenario)
        loaded = load_scenario(path)
        market = loaded.market
        groups = loaded.groups
        firms = loaded.firms_for(groups.runs[0] if groups.head_to_head else groups.baseline)
        name = groups.focal_firm or firms[0]["name"]
        firm = next(f for f in firms if f["name"] == name)
        arm = "" if groups.head_to_head else f", arm {groups.baseline}"
        source = f"{path} (firm {name}{arm})"

    policies = {}
    for item in firm.pop("policies", []) or []:
        item = dict(item) if isinstance(item, dict) else {"kind": type(item).__name__, **item.model_dump()}
        policies[item.pop("kind")] = item
    levers = {name: _lever_value(policy, lever, policies.get(policy.__name__))
              for name, (policy, lever) in policy_levers().items()}
    # what the controls set is not repeated in the fixed settings
    for policy, lever in policy_levers().values():
        policies.get(policy.__name__, {}).pop(lever.setting, None)
    controlled = {policy.__name__ for policy, _ in policy_levers().values()}
    unknown = sorted(set(policies) - controlled)

    reach_min, reach_max = market.negative_reach_min, market.negative_reach_max
    shown = {"n_people", "negative_reach_min", "negative_reach_max", "relay_probability", "complaint_probability",
             "contract_months", "months", "agent_view_limit"}
    market_settings = {k: v for k, v in market.model_dump(mode="json", exclude_defaults=True).items() if k not in shown}
    notes = []
    market_settings.pop("penetration", None)  # the slider sets the people, not the firm's stated customers
    if market_settings.get("network") == "edge_list":  # a given network has its own size: not for a slider
        market_settings.pop("network"), market_settings.pop("edge_list_path", None)
        notes.append("the scenario's edge-list network is replaced by the default small world")
    if market.n_people > DEFAULT_PEOPLE:
        notes.append(f"people start at {DEFAULT_PEOPLE} (the scenario has {market.n_people:,}) so that all can be drawn")
    if unknown:
        notes.append(f"policies without a lever are left out: {', '.join(unknown)}")
    firm_settings = {k: v for k, v in firm.items() if k in ("name", "price", "advertising", "initial_share")}

    return {
        "source": source,
        "notes": notes,
        "firm_name": firm["name"],
        "levers": levers,
        "market": {
            "seed": 1,
            "n_people": max(MIN_PEOPLE, min(market.n_people, DEFAULT_PEOPLE)),
            "quality": float(firm["quality"]),
            "failure_rate": float(firm["failure_rate"]),
            "negative_reach": (reach_min + reach_max) // 2,
            "relay_probability": market.relay_probability,
            "complaint_probability": market.complaint_probability,
            "contract_months": (firm.get("contract_months") if firm.get("contract_months") is not None
                                else market.contract_months),
            "months": market.months,
        },
        "fixed": {
            "reach_below": (reach_min + reach_max) // 2 - reach_min,
            "reach_above": reach_max - (reach_min + reach_max) // 2,
            "market_settings": market_settings,
            "firm_settings": firm_settings,
            "policy_settings": {k: v for k, v in policies.items() if k in controlled},
        },
    }


def model_params(settings: dict[str, Any]) -> dict[str, Any]:
    """SolaraViz's `model_params`: a control per policy lever and assumption, then fixed values."""
    levers, market = settings["levers"], settings["market"]

    def slider(label, value, low, high, step, kind="SliderFloat"):
        value = min(max(value, low), high)
        return {"type": kind, "label": label, "value": value, "min": low, "max": high, "step": step}

    def whole(label, value, low, high, step=1):
        return slider(label, int(value), low, max(high, int(value)), step, "SliderInt")

    return {
        # policy levers, as the policy classes declare them
        **{name: _control(policy, lever, levers.get(name, _lever_value(policy, lever, None)))
           for name, (policy, lever) in policy_levers().items()},
        # market assumptions
        "n_people": whole("People", market["n_people"], MIN_PEOPLE, MAX_PEOPLE, 50),
        "quality": slider("Service quality", market["quality"], 0.0, 1.0, 0.05),
        "failure_rate": slider("Failure rate", market["failure_rate"], 0.0, 0.2, 0.005),
        "negative_reach": whole("Negative reach (peers)",
                                market["negative_reach"], 0, 40),
        "relay_probability": slider("Hearsay passed on (chance a month)", market["relay_probability"], 0.0, 0.5, 0.05),
        "complaint_probability": slider("Complaint probability", market["complaint_probability"], 0.0, 1.0, 0.05),
        "contract_months": whole("Contract (months)", market["contract_months"], 0, 36),
        "months": whole("Horizon (months)", market["months"], 12, 120, 6),
        "seed": whole("Seed", market["seed"], 0, 99),
        **settings["fixed"],
    }


def initial_values(settings: dict[str, Any]) -> dict[str, Any]:
    """The keywords of `DashboardMarket` before any slider moves."""
    return {name: (spec["value"] if isinstance(spec, dict) and "type" in spec else spec)
            for name, spec in model_params(settings).items()}


# --- the page ----------------------------------------------------------------------------------
def portray(agent):
    from mesa.visualization.components import AgentPortrayalStyle

    mood = agent.mood
    # one zorder for all: Mesa 3.3's drawer mixes up the colours of agents in different zorders
    return AgentPortrayalStyle(color=MOOD_COLOURS[mood], size=26 if mood != "prospect" else 10,
                               zorder=1, edgecolors="none", linewidths=0)


def _chart(title: str, series: dict[str, tuple[str, str]], firm: str):
    """A line chart of DataCollector series `metric[firm]`, with readable labels."""
    from mesa.visualization import make_plot_component

    measure = {f"{metric}[{firm}]": colour for metric, (colour, _) in series.items()}
    labels = [label for _, label in series.values()]

    def finish(ax):
        for line, label in zip(ax.get_lines(), labels):
            line.set_label(label)
        ax.legend(loc="upper left", fontsize="small")
        ax.set_title(title)
        ax.set_xlabel("month")

    return make_plot_component(measure, post_process=finish)


def _space_finish(ax):
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    ax.set_title("The network, coloured by mood")
    handles = [Line2D([], [], marker="o", linestyle="", color=c, label=m) for m, c in MOOD_COLOURS.items()]
    ax.legend(handles=handles, loc="lower center", fontsize="x-small", ncol=5, framealpha=0.8,
              borderpad=0.3, columnspacing=0.8, handletextpad=0.2)
    for collection in ax.collections:
        if isinstance(collection, LineCollection):  # the ties: faint, under the people
            collection.set_alpha(0.15)
            collection.set_linestyle("-")
            collection.set_color("#7f7f7f")


def summary_rows(model: Market) -> dict[str, list[tuple[str, str, str]]]:
    """What the summary card shows, as (key, label, value): the settings in force and this month."""
    m, k = model.metrics, 0
    firm, p = model.firms[k], model.parameters
    contract = model.firm_contract_months[k]
    return {
        "Settings in force": [
            ("people", "People", f"{model.network.n:,}"),
            ("policies", "Policies", firm.label()),
            ("quality", "Service quality", f"{firm.quality:g}"),
            ("failure_rate", "Failure rate", f"{firm.failure_rate:g}"),
            ("negative_reach", "Negative reach", f"{p.negative_reach_min}-{p.negative_reach_max} peers"),
            ("complaint_probability", "Complaint probability", f"{p.complaint_probability:g}"),
            ("contract_months", "Contract", f"{contract} months" if contract else "none"),
        ],
        "This month": [
            ("month", "Month", f"{model.month} of {p.months}"),
            ("customers", "Customers", f"{m['customers'][k]:,.0f}"),
            ("moods", "Moods", " / ".join(f"{m[name][k]:,.0f}" for name in MOODS) + " (dissatisfied to delighted)"),
            ("complaints", "Complaints", f"{m['complaints'][k]:,.0f}"),
            ("messages", "Messages", f"{m['messages_negative'][k]:,.0f} negative, {m['messages_positive'][k]:,.0f} positive"),
            ("profit", "Profit", f"{m['profit'][k]:,.0f}"),
            ("cumulative_profit", "Cumulative profit", f"{m['cumulative_profit'][k]:,.0f}"),
        ],
    }


def summary_html(model: Market, settings: dict[str, Any]) -> str:
    """The summary card as HTML (each value carries data-key=NAME for tests and scripts)."""
    from html import escape

    tables = []
    for title, rows in summary_rows(model).items():
        body = "".join(
            f'<tr><td style="color:#555;padding:1px 8px 1px 0">{escape(label)}</td>'
            f'<td data-key="{key}" style="padding:1px 0">{escape(value)}</td></tr>'
            for key, label, value in rows
        )
        tables.append(f'<div style="flex:1;min-width:220px"><b>{escape(title)}</b>'
                      f'<table style="border-collapse:collapse;margin-top:4px">{body}</table></div>')
    notes = "".join(f"<br>Note: {escape(note)}." for note in settings["notes"])
    return (
        '<div class="grapevine-summary" style="font-size:13px;line-height:1.35">'
        f'<div style="display:flex;gap:16px;flex-wrap:wrap">{"".join(tables)}</div>'
        '<p style="margin:8px 0 0 0;color:#555">Sliders set the next market: move them, then <b>Reset</b> '
        f'to build it; <b>Step</b> runs one month, &#9654; runs on. A policy runs while its box is ticked '
        f'and none of its levers is at 0 or off. Defaults: {escape(settings["source"])}.'
        f"{notes}</p></div>"
    )


@functools.cache
def _settings_from_environment() -> dict[str, Any]:
    text = os.environ.get(ENV)
    return json.loads(text) if text else dashboard_settings(None)


if solara is not None:
    import warnings

    warnings.filterwarnings("ignore", message=".*use_state. found despite early return")  # inside Mesa 3.3
    from mesa.visualization.utils import update_counter

    @solara.component
    def Summary(model):
        update_counter.get()
        solara.HTML(tag="div", unsafe_innerHTML=summary_html(model, _settings_from_environment()))

    @solara.component
    def Page():
        from mesa.visualization import SolaraViz, make_space_component

        settings = _settings_from_environment()
        firm = settings["firm_name"]
        model = solara.use_memo(lambda: DashboardMarket(**initial_values(settings)), [])
        components = [
            (Summary, 0),
            make_space_component(portray, post_process=_space_finish, layout_alg=_cached_layout,
                                 layout_kwargs={}),
            _chart("Customers", {"customers": ("#1f77b4", "customers")}, firm),
            _chart("Moods of customers", {name: (MOOD_COLOURS[name], name) for name in MOODS}, firm),
            _chart("Word of mouth (messages this month)", {
                "messages_negative": ("#d62728", "negative"), "messages_positive": ("#2ca02c", "positive"),
                "messages_defended": ("#9467bd", "defended by loyal customers")}, firm),
            _chart("Money (this month)", {"revenue": ("#1f77b4", "revenue"), "cost": ("#ff7f0e", "cost"),
                                          "profit": ("#2ca02c", "profit")}, firm),
        ]
        return SolaraViz(model, components=components, model_params=model_params(settings),
                         name=f"Grapevine: {firm}", play_interval=300)


# --- the server ----------------------------------------------------------------------------
def serve(scenario: str | None = None, host: str = HOST, port: int = PORT, open_browser: bool = False) -> int:
    """Start Solara's server on host:port with the dashboard (blocks until Ctrl-C)."""
    if solara is None:
        print("error: the dashboard needs Mesa's visualisation (solara): "
              "pip install 'grapevine[dashboard]' (or `make install`)", file=sys.stderr)
        return 2
    settings = dashboard_settings(scenario)  # a bad scenario stops here with a clear message
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = "THIS-MACHINE"
        print(f"warning: listening on every interface ({host}): anyone who can reach this machine "
              f"can use the dashboard", file=sys.stderr)
    url = f"http://{shown}:{port}/"
    print(f"Grapevine dashboard ({settings['source']}): open {url} in your browser "
          f"(bound to {host}:{port}; Ctrl-C stops it)", flush=True)
    env = {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false", **os.environ, ENV: json.dumps(settings)}
    command = [sys.executable, "-m", "solara", "run", f"{__name__}:Page", "--host", host, "--port", str(port),
               "--production", "--no-check-version", "--open" if open_browser else "--no-open",
               "--log-level", "warning"]
    sys.stdout.flush(), sys.stderr.flush()
    os.execvpe(command[0], command, env)  # the server takes this process over (same pid, Ctrl-C stops it)
    return 0  # pragma: no cover
