"""Render the parameter tables of docs/MODEL.md from the pydantic models in `sim`.

    python docs/make_model_tables.py           # rewrite the tables in docs/MODEL.md
    python docs/make_model_tables.py --check   # exit 1 if docs/MODEL.md is out of date

The tables sit between `<!-- parameters:start -->` and `<!-- parameters:end -->` in
docs/MODEL.md; everything outside the markers is hand-written and left alone. The tables
are built from:

- `sim.parameters.MarketParameters.model_fields`: default, the `unit` and `source` in
  `json_schema_extra`, and the bounds (ge/le/gt/lt) in the field metadata. Fields are
  grouped under the `# --- Section ---` comments of the class source;
- `sim.firm.Firm.model_fields`: default, bounds and description;
- every class in `sim.policies.Policy.registry`: its settings (default, bounds,
  description), the hooks it implements, and what it declares (per-person state, events,
  money categories, shared parts and dashboard levers).

Every default also shows what it rests on, as declared beside it (`sim.provenance`): the
quality of its source (measured, calibrated, tuned, judgement, or the user's decision) and,
for assumptions, the plausible range with its reason.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
import typing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from anywhere, installed or not
    sys.path.insert(0, str(ROOT))

from pydantic import BaseModel  # noqa: E402
from pydantic.fields import FieldInfo  # noqa: E402

from sim.customers import NEVER  # noqa: E402
from sim.firm import Firm  # noqa: E402
from sim.parameters import MarketParameters  # noqa: E402
from sim.policies import Policy  # noqa: E402
from sim.policies.base import Plugin  # noqa: E402

MODEL_MD = ROOT / "docs" / "MODEL.md"
START = "<!-- parameters:start -->"
END = "<!-- parameters:end -->"
COMMAND = "python docs/make_model_tables.py"
HOOK_PHASE = {  # the hook points of sim/policies/base.py, in month order
    "shape_experience": "phase 1, before satisfaction moves",
    "on_complaints": "phase 2, answers complaints",
    "after_experience": "phase 2, after complaints",
    "churn_pressure": "phase 4, multiplies the hazard of leaving",
    "before_leaving": "phase 4, before leavers go",
    "reach_former_customers": "phase 5, after acquisition",
    "settle_month": "phase 6, before the books close",
}


# --- formatting of single cells ---------------------------------------------------------
def cell(text: object) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def number(value: object) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:_}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-4):
            return f"{value:.4g}"
        text = f"{value:.6g}"
        return text if any(mark in text for mark in ".e") else text + ".0"  # 1.0, not 1: a float
    return str(value)


def default_text(field: FieldInfo) -> str:
    value = field.default
    if value is None:
        return "`None`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, tuple) and not value:
        return "`()`"
    return f"`{number(value)}`"


def type_text(annotation: object) -> str:
    """int, float, str, one of ..., with 'or None' for optional fields."""
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return "one of " + ", ".join(f'`"{a}"`' for a in args)
    if args and type(None) in args and origin is not tuple:
        rest = [a for a in args if a is not type(None)]
        return " or ".join(type_text(a) for a in rest) + " or None"
    if origin is tuple:
        inner = args[0].__name__ if args and isinstance(args[0], type) else "item"
        return f"tuple of {inner}"
    return getattr(annotation, "__name__", str(annotation))


def bounds_text(field: FieldInfo) -> str:
    """The allowed values from the field's metadata: [a, b], (a, b], >= a, pattern, length."""
    lower = upper = None
    lower_open = upper_open = False
    min_length = max_length = None
    extra = []
    for item in field.metadata:
        if getattr(item, "ge", None) is not None:
            lower = item.ge
        if getattr(item, "gt", None) is not None:
            lower, lower_open = item.gt, True
        if getattr(item, "le", None) is not None:
            upper = item.le
        if getattr(item, "lt", None) is not None:
            upper, upper_open = item.lt, True
        if getattr(item, "min_length", None) is not None:
            min_length = item.min_length
        if getattr(item, "max_length", None) is not None:
            max_length = item.max_length
        pattern = getattr(item, "pattern", None)
        if pattern:
            options = re.fullmatch(r"\^\(([\w|]+)\)\$", pattern)
            extra.append(
                "one of " + ", ".join(f'`"{o}"`' for o in options.group(1).split("|"))
                if options else f"matches `{pattern}`"
            )
    if min_length is not None or max_length is not None:
        extra.insert(0, f"{min_length or 0}-{max_length if max_length is not None else 'any'} characters")
    if lower is not None and upper is not None:
        interval = f"{'(' if lower_open else '['}{number(lower)}, {number(upper)}{')' if upper_open else ']'}"
    elif lower is not None:
        interval = f"{'>' if lower_open else '≥'} {number(lower)}"
    elif upper is not None:
        interval = f"{'<' if upper_open else '≤'} {number(upper)}"
    else:
        interval = ""
    return "; ".join(part for part in (interval, *extra) if part)


def allowed_text(field: FieldInfo) -> str:
    kind = type_text(field.annotation)
    bounds = bounds_text(field)
    if kind.startswith("one of"):
        return kind
    return f"{kind}, {bounds}" if bounds else kind


def quality_text(field: FieldInfo) -> str:
    """'tuned (targets ...; bench/calibrate.py)', 'judgement', 'measured' or 'decision'."""
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if "quality" not in extra:
        return "-"
    if extra["decision"]:
        return "decision"
    watched = ", ".join(f"`{target}`" for target in extra["target"])
    how = "; ".join(part for part in (watched, extra["script"] and f"`{extra['script']}`") if part)
    return f"{extra['quality']} ({how})" if how else extra["quality"]


def range_text(field: FieldInfo) -> str:
    """'[0.004, 0.008]: reason', 'not varied: reason' or the reason alone."""
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if "quality" not in extra:
        return ""
    low, high, reason = extra["low"], extra["high"], extra["reason"]
    if low is None:
        return reason
    if low == high:
        return f"not varied: {reason}"
    return f"[{number(low)}, {number(high)}]: {reason}"


# --- tables ---------------------------------------------------------------------------------
def sections(model: type[BaseModel]) -> dict[str, list[str]]:
    """Field names grouped under the `# --- Title ---` comments of the class source."""
    groups: dict[str, list[str]] = {}
    current = "Other"
    try:
        source = inspect.getsource(model)
    except (OSError, TypeError):
        source = ""
    for line in source.splitlines():
        header = re.match(r"\s*#\s*---\s*(.+?)\s*-*\s*$", line)
        if header:
            current = header.group(1)
            continue
        declared = re.match(r"\s{4}(\w+)\s*:", line)
        if declared and declared.group(1) in model.model_fields:
            groups.setdefault(current, []).append(declared.group(1))
    placed = {name for names in groups.values() for name in names}
    missing = [name for name in model.model_fields if name not in placed]
    if missing:
        groups.setdefault("Other", []).extend(missing)
    return groups


def market_table() -> list[str]:
    lines = []
    fields = MarketParameters.model_fields
    for title, names in sections(MarketParameters).items():
        lines += [f"#### {title}", "", "| Parameter | Default | Unit | Allowed | Quality | Plausible range | Source |",
                  "|---|---|---|---|---|---|---|"]
        for name in names:
            field = fields[name]
            extra = field.json_schema_extra or {}
            unit, source = extra.get("unit", ""), extra.get("source", "")
            lines.append(
                f"| `{name}` | {default_text(field)} | {cell(unit)} | {cell(allowed_text(field))} "
                f"| {quality_text(field)} | {cell(range_text(field))} | {cell(source)} |"
            )
        lines.append("")
    return lines


def settings_table(model: type[BaseModel], label: str) -> list[str]:
    lines = [f"| {label} | Default | Allowed | Quality | Plausible range | Description (unit; source) |",
             "|---|---|---|---|---|---|"]
    for name, field in model.model_fields.items():
        description = field.description or ""
        lines.append(
            f"| `{name}` | {default_text(field)} | {cell(allowed_text(field))} "
            f"| {quality_text(field)} | {cell(range_text(field))} | {cell(description)} |"
        )
    return lines


def summary(doc: str | None) -> str:
    """The first paragraph of a docstring, on one line."""
    text = inspect.cleandoc(doc or "")
    return " ".join(text.split("\n\n")[0].split())


def hooks(part) -> str:
    kind = part if isinstance(part, type) else type(part)
    used = [hook for hook in HOOK_PHASE if getattr(kind, hook) is not getattr(Plugin, hook)]
    return ", ".join(f"`{hook}` ({HOOK_PHASE[hook]})" for hook in used) or "none"


def state_text(state) -> str:
    dtype = getattr(state.dtype, "__name__", str(state.dtype))
    resets = " and ".join(when for when, yes in (("joining", state.on_join), ("leaving", state.on_leave)) if yes)
    reset = f"; reset on {resets}" if resets else "; never reset"
    initial = "`NEVER` (not set)" if state.initial == NEVER else f"`{number(state.initial)}`"
    return f"`{state.name}` ({dtype}, initially {initial}{reset}: {state.description})"


def lever_text(lever) -> str:
    if lever.setting is None:
        return f'"{lever.label}" (a switch)'
    if lever.choices:
        shown = ", ".join(f"`{choice}`" for choice in lever.choices)
        span = f"one of {shown}"
    else:
        span = f"{number(lever.low)} to {number(lever.high)} by {number(lever.step)}"
    unit = f"; {lever.unit}" if lever.unit else ""
    off = f"; off at `{number(lever.off)}`" if lever.off is not None else ""
    return f'"{lever.label}" (`{lever.setting}`, {span}{unit}{off})'


def declarations(part) -> list[str]:
    """What a policy or shared part declares, one line per kind."""
    lines = []
    if part.states:
        lines.append("State: " + "; ".join(state_text(state) for state in part.states) + ".")
    names = [(title, getattr(part, kind)) for title, kind in (("Events", "events"), ("Costs", "costs"),
                                                              ("Revenues", "revenues"))]
    booked = ". ".join(f"{title}: " + ", ".join(f"`{name}`" for name in values) for title, values in names if values)
    if booked:
        lines.append(booked + ".")
    return [cell(line) for line in lines]


def policy_tables() -> list[str]:
    lines = []
    for name, policy in Policy.registry.items():
        lines += [f"#### {name}", "", cell(summary(policy.__doc__)), "", f"Hooks: {hooks(policy)}.", ""]
        for line in declarations(policy):
            lines += [line, ""]
        if policy.shares:
            lines += ["Shares: " + ", ".join(f"`{type(part).__name__}`" for part in policy.shares)
                      + " (see Shared parts below).", ""]
        if policy.levers:
            lines += ["Dashboard: " + cell("; ".join(lever_text(lever) for lever in policy.levers)) + ".", ""]
        if policy.model_fields:
            lines += settings_table(policy, "Setting")
        else:
            lines.append("No settings.")
        lines.append("")
    shared = {type(part): part for policy in Policy.registry.values() for part in policy.shares}
    if shared:
        lines += ["### Shared parts (`sim.policies.Shared`)", "",
                  "State and bookings that several policies share: made once per market, booked once per firm "
                  "and month, however many of the firm's policies use them.", ""]
    for kind, part in shared.items():
        users = [name for name, policy in Policy.registry.items() if any(type(p) is kind for p in policy.shares)]
        lines += [f"#### {kind.__name__}", "", cell(summary(kind.__doc__)), "",
                  f"Used by: {', '.join(users)}. Hooks: {hooks(part)}.", ""]
        for line in declarations(part):
            lines += [line, ""]
    return lines


def counts() -> list[str]:
    """How many defaults rest on what, market and all (firm and policies included)."""
    from sim.parameters import provenance

    def tally(rows) -> str:
        kinds = ["decision" if row.decision else row.quality for row in rows]
        order = ("measured", "calibrated", "tuned", "judgement", "decision")
        return ", ".join(f"{kinds.count(kind)} {kind}" for kind in order if kind in kinds) + f" (of {len(rows)})"

    rows = provenance()
    market = [row for row in rows if row.owner == "market"]
    return [f"Market parameters by quality: {tally(market)}. With the firm's and the policies' settings: "
            f"{tally(rows)}.", ""]


def render() -> str:
    """The text that belongs between the markers (without the markers)."""
    lines = [
        f"<!-- Generated by docs/make_model_tables.py from sim/parameters.py, sim/firm.py and "
        f"sim/policies/; do not edit by hand: run `{COMMAND}`. -->",
        "",
        "### Market parameters (`sim.parameters.MarketParameters`)",
        "",
        *counts(),
        *market_table(),
        "### Firm settings (`sim.firm.Firm`)",
        "",
        *settings_table(Firm, "Setting"),
        "",
        "### Policy settings (`sim.policies.Policy.registry`)",
        "",
        *policy_tables(),
    ]
    return "\n".join(lines).rstrip() + "\n"


def render_document(text: str) -> str:
    """`text` (the whole of MODEL.md) with the generated section replaced by `render()`."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < 0 or end < start:
        raise ValueError(f"docs/MODEL.md needs the markers {START} and {END}, in that order")
    return text[: start + len(START)] + "\n" + render() + text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the parameter tables of docs/MODEL.md.")
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/MODEL.md is out of date")
    parser.add_argument("--path", type=Path, default=MODEL_MD, help="the model description (default: docs/MODEL.md)")
    args = parser.parse_args(argv)
    text = args.path.read_text(encoding="utf-8")
    try:
        wanted = render_document(text)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 1
    if args.check:
        if wanted != text:
            print(f"{args.path}: parameter tables are out of date; run `{COMMAND}`", file=sys.stderr)
            return 1
        print(f"{args.path}: parameter tables are up to date")
        return 0
    if wanted != text:
        args.path.write_text(wanted, encoding="utf-8")
        print(f"{args.path}: parameter tables rewritten")
    else:
        print(f"{args.path}: parameter tables already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
