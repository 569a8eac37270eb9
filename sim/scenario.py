"""Scenario files: YAML in, a typed `Scenario` out, or one clear `ScenarioError`.

    scenario = load_scenario("scenarios/quickstart.yaml", overrides=["replications=5"])

The schema reuses the engine's models: `market` is `MarketParameters`, each firm has the
fields of `Firm`, and each policy is checked against its own class (the union is built
from `Policy.registry`, so a new policy plug-in is accepted without touching this file).
Errors name the file, the field path (`firms[0].policies[1].effort`), the line, what was
wrong and what is allowed; unknown keys get a "did you mean".
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError,
                      create_model, field_validator, model_validator)

from .firm import Firm
from .parameters import MarketParameters
from .policies import Policy, make_policy
from .sectors import SectorName

MAX_FILE_BYTES = 1_000_000
MAX_VALUES = 100_000  # values after expanding YAML aliases (a "billion laughs" stops here)
MAX_DIGITS = 30
ARM_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,59}$"
SCENARIO_NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$"
SHIPPED = Path(__file__).resolve().parent.parent / "scenarios"


class ScenarioError(Exception):
    """Bad input: a list of problems, each already a readable line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


# --- the schema ----------------------------------------------------------------------
_STRICT = ConfigDict(extra="forbid")


def _policy_spec(cls: type[Policy]) -> type[BaseModel]:
    """A scenario-side twin of a policy class: the same fields plus `kind: Name`."""
    fields = {name: (info.annotation, info) for name, info in cls.model_fields.items()}
    doc = (cls.__doc__ or cls.__name__).strip()
    return create_model(cls.__name__, __config__=ConfigDict(extra="forbid", title=cls.__name__,
                                                            json_schema_extra={"description": doc}),
                        kind=(Literal[cls.__name__], Field(description="the policy")), **fields)


POLICY_SPECS: dict[str, type[BaseModel]] = {name: _policy_spec(cls) for name, cls in Policy.registry.items()}


def _policy_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("kind")
    return getattr(value, "kind", None)


PolicySpec = Annotated[
    Union[tuple(Annotated[spec, Tag(name)] for name, spec in POLICY_SPECS.items())],
    Discriminator(_policy_kind),
]


def _policies_before(value: Any) -> Any:
    """Plain names ('SmallGifts') and call-like strings ('ServiceRecovery(effort=0.8)') become mappings."""
    if value is None:
        return []
    if isinstance(value, (str, dict)):
        value = [value]
    if not isinstance(value, list):
        return value
    out = []
    for item in value:
        if isinstance(item, str) and "(" in item:
            policy = make_policy(item)  # a ValueError here becomes a validation error
            item = {"kind": type(policy).__name__, **policy.model_dump(exclude_defaults=True)}
        elif isinstance(item, str):
            item = {"kind": item.strip()}
        out.append(item)
    return out


_firm_fields = {name: (info.annotation, info) for name, info in Firm.model_fields.items() if name != "policies"}
FirmSpec = create_model(
    "Firm", __config__=ConfigDict(extra="forbid", title="Firm"),
    __validators__={"_names": field_validator("policies", mode="before")(lambda cls, v: _policies_before(v))},
    **_firm_fields,
    policies=(list[PolicySpec], Field(default_factory=list, description="policies: names or {kind: Name, setting: value}")),
)


class Arm(BaseModel):
    """One variant of the compared firm: its policies, everything else equal."""

    model_config = _STRICT
    name: str = Field(pattern=ARM_NAME, description="letters, digits, _ - . + (used in file names)")
    policies: list[PolicySpec] = Field(default_factory=list, description="[] = no policy")
    description: str = Field("", max_length=200)

    _names = field_validator("policies", mode="before")(lambda cls, v: _policies_before(v))


class Compare(BaseModel):
    """What to compare: `arms` (variants of one firm's policies) or `head_to_head` (the firms)."""

    model_config = _STRICT
    kind: Literal["arms", "head_to_head"] = Field("arms", description="arms | head_to_head")
    firm: str | None = Field(None, description="arms: the firm whose policies the arms set (default: the only firm)")
    baseline: str | None = Field(None, description="the arm (or firm) the others are compared with (default: the first)")
    arms: list[Arm] = Field(default_factory=list, description="arms: two or more named variants")


OUTPUT_KPIS = Literal["retention", "customers", "market_share", "revenue", "cost", "profit", "npv", "nps"]


class Sensitivity(BaseModel):
    """`grapevine sensitivity`: which uncertain settings drive the outcomes and the verdict (sim.analysis)."""

    model_config = _STRICT
    parameters: dict[str, tuple[float, float]] = Field(
        min_length=1, max_length=40,
        description="setting: [low, high]; a --set path (market.complaint_probability, firms[0].failure_rate) "
                    "or firms.NAME.setting / arms.NAME.policies[0].setting")
    method: Literal["morris", "sobol"] = Field("morris", description="morris (screening) | sobol (variance shares)")
    samples: int = Field(8, ge=2, le=100_000, description="morris: trajectories; sobol: base sample N (a power of 2)")
    replications: int = Field(2, ge=1, le=1000, description="paired runs per arm at each sample point")
    outputs: list[OUTPUT_KPIS] = Field(["retention", "npv"], min_length=1, description="KPIs to analyse")
    compare: list[str] | None = Field(None, min_length=2, max_length=2,
                                      description="[X, Y]: arms (or firms) whose paired difference X - Y is analysed; "
                                                  "default: the first other arm and the baseline")
    winner_by: Literal["retention", "customers", "market_share", "revenue", "profit", "npv", "nps"] = Field(
        "npv", description="the KPI that decides which of X and Y wins at a sample point")

    @field_validator("parameters")
    @classmethod
    def _ranges(cls, value):
        for name, (low, high) in value.items():
            if not low < high:
                raise ValueError(f"{name}: [low, high] needs low < high, got [{low}, {high}]")
        return value


class SweepRange(BaseModel):
    """A range of numbers for `grapevine sweep`: low to high (a grid takes `steps` values)."""

    model_config = _STRICT
    low: float
    high: float
    steps: int | None = Field(None, ge=2, le=10_000, description="grid: this many evenly spaced values, ends included")
    integer: bool = Field(False, description="whole numbers (rounded)")
    log: bool = Field(False, description="even on a log scale (needs low > 0)")

    @model_validator(mode="after")
    def _ordered(self) -> SweepRange:
        if not self.low < self.high:
            raise ValueError(f"a range needs low < high, got low {self.low}, high {self.high}")
        if self.log and self.low <= 0:
            raise ValueError("log: true needs low > 0")
        return self


class Sweep(BaseModel):
    """`grapevine sweep`: the scenario at every point of a grid or a sample, each with its replications (sim.sweep)."""

    model_config = _STRICT
    method: Literal["grid", "random", "latin_hypercube"] = Field(
        "grid", description="grid: every combination | random | latin_hypercube: `samples` points over the ranges")
    samples: int | None = Field(None, ge=1, le=1_000_000, description="random / latin_hypercube: number of points")
    seed: int | None = Field(None, ge=0, le=2**63 - 1, description="seed of the sample (default: the scenario seed)")
    parameters: dict[str, list[Any] | SweepRange] = Field(
        min_length=1, max_length=40,
        description="setting: [values] or {low, high, steps}; a --set path (market.n_people, firms[0].quality) "
                    "or firms.NAME.setting / arms.NAME.policies[0].setting")

    @model_validator(mode="after")
    def _method(self) -> Sweep:
        for name, spec in self.parameters.items():
            if isinstance(spec, list) and not spec:
                raise ValueError(f"parameters.{name}: give one or more values")
            if isinstance(spec, SweepRange) and self.method == "grid" and spec.steps is None:
                raise ValueError(f"parameters.{name}: a grid needs steps (how many values from low to high) "
                                 f"or a list of values")
            if isinstance(spec, SweepRange) and self.method != "grid" and spec.steps is not None:
                raise ValueError(f"parameters.{name}: steps is for a grid; {self.method} samples the range")
        if self.method == "grid" and self.samples is not None:
            raise ValueError("samples is for method random or latin_hypercube; a grid takes every combination")
        if self.method != "grid" and self.samples is None:
            raise ValueError(f"method {self.method} needs samples: the number of points")
        return self


class Scenario(BaseModel):
    """A scenario file: the market, the firms, what to compare, how many replications, the seed."""

    model_config = ConfigDict(extra="forbid", title="Grapevine scenario")
    name: str = Field(pattern=SCENARIO_NAME, description="names the results folder")
    description: str = Field("", max_length=300, description="one line: the question the scenario answers")
    seed: int = Field(1, ge=0, le=2**63 - 1, description="same seed, same results")
    replications: int = Field(10, ge=2, le=10_000, description="paired runs per arm (2 or more for an interval)")
    sector: SectorName = Field(
        "postpaid_mobile", description="the sector modelled: its published churn is the check on the market")
    market: MarketParameters = Field(default_factory=MarketParameters, description="market parameters")
    firms: list[FirmSpec] = Field(min_length=1, max_length=50, description="the firms of the market")
    compare: Compare = Field(default_factory=Compare)
    sensitivity: Sensitivity | None = Field(  # not part of a run: kept out of resolved() and digest()
        None, exclude=True, description="uncertain settings and their ranges, for `grapevine sensitivity`")
    sweep: Sweep | None = Field(  # not part of a run: kept out of resolved() and digest()
        None, exclude=True, description="a grid or sample of settings, for `grapevine sweep`")

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        names = [firm.name for firm in self.firms]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise _at(("firms", i, "name"), f"firm name {name!r} is used twice: each firm needs its own name")
        c = self.compare
        if c.kind == "head_to_head":
            if len(self.firms) < 2:
                raise _at(("firms",), "head_to_head needs two or more firms")
            if c.arms:
                raise _at(("compare", "arms"), "head_to_head compares the firms: remove arms (or use kind: arms)")
            if c.baseline is not None and c.baseline not in names:
                raise _at(("compare", "baseline"), f"{c.baseline!r} is not a firm: choose one of {', '.join(names)}")
            return self
        if len(c.arms) < 2:
            raise _at(("compare", "arms"), "an arms comparison needs two or more arms")
        if c.firm is None and len(self.firms) > 1:
            raise _at(("compare", "firm"), f"say whose policies the arms set: one of {', '.join(names)}")
        if c.firm is not None and c.firm not in names:
            raise _at(("compare", "firm"), f"{c.firm!r} is not a firm: choose one of {', '.join(names)}")
        focal = names.index(c.firm) if c.firm else 0
        if self.firms[focal].policies:
            raise _at(("firms", focal, "policies"),
                      "the arms set this firm's policies: move these policies into each arm")
        arms = [arm.name for arm in c.arms]
        for i, arm in enumerate(arms):
            if arm in arms[:i]:
                raise _at(("compare", "arms", i, "name"), f"arm name {arm!r} is used twice")
        if c.baseline is not None and c.baseline not in arms:
            raise _at(("compare", "baseline"), f"{c.baseline!r} is not an arm: choose one of {', '.join(arms)}")
        return self

    # --- what the experiment needs -------------------------------------------------
    @property
    def baseline(self) -> str:
        c = self.compare
        if c.baseline:
            return c.baseline
        return c.arms[0].name if c.kind == "arms" else self.firms[0].name

    @property
    def focal_firm(self) -> str | None:
        return None if self.compare.kind == "head_to_head" else (self.compare.firm or self.firms[0].name)

    def arm_names(self) -> list[str]:
        return [arm.name for arm in self.compare.arms] if self.compare.kind == "arms" else ["head_to_head"]

    def firms_for(self, arm: str) -> list[dict]:
        """The firms of one arm as engine keywords (policies as {kind: ..., ...} mappings)."""
        firms = [firm.model_dump(mode="json") for firm in self.firms]
        if self.compare.kind == "arms":
            chosen = next(a for a in self.compare.arms if a.name == arm)
            focal = next(f for f in firms if f["name"] == self.focal_firm)
            focal["policies"] = [p.model_dump(mode="json") for p in chosen.policies]
        return firms

    def resolved(self) -> dict:
        """Every setting, defaults included, as plain JSON data (the manifest keeps this)."""
        return self.model_dump(mode="json")

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.resolved(), sort_keys=True).encode()).hexdigest()


class _Located(ValueError):
    """A cross-field problem raised with the path it belongs to."""

    def __init__(self, loc: tuple, message: str):
        self.loc, self.message = loc, message
        super().__init__(message)


def _at(loc: tuple, message: str) -> _Located:
    return _Located(loc, message)


def json_schema() -> dict:
    """The JSON Schema of scenario files (plain policy names are allowed next to mappings)."""
    schema = Scenario.model_json_schema()
    names = "|".join(sorted(POLICY_SPECS))
    by_name = {"type": "string", "pattern": rf"^\s*({names})\s*(\(.*\))?\s*$",
               "description": "a policy name, or Name(setting=value, ...)"}
    for model in ("Firm", "Arm"):
        policies = schema["$defs"][model]["properties"]["policies"]
        policies["items"] = {"anyOf": [by_name, policies["items"]]}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


# --- loading -------------------------------------------------------------------------
def find_scenario(name_or_path: str | Path) -> Path:
    """A path, or the name of a shipped scenario ('quickstart')."""
    path = Path(name_or_path)
    if path.exists() or path.suffix in (".yaml", ".yml") or "/" in str(name_or_path):
        return path
    for folder in (Path.cwd() / "scenarios", SHIPPED):
        candidate = folder / f"{name_or_path}.yaml"
        if candidate.exists():
            return candidate
    return path


def load_scenario(path: str | Path, overrides: list[str] = (), replications: int | None = None) -> Scenario:
    """Read, check and validate a scenario file; raise ScenarioError with readable lines."""
    path = Path(path)
    name = str(path)
    try:
        if path.is_dir():
            raise ScenarioError([f"{name}: is a folder, not a scenario file"])
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ScenarioError([f"{name}: the file is larger than {MAX_FILE_BYTES:,} bytes; a scenario is a short text file"])
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ScenarioError([f"{name}: no such file (see `grapevine list` for the shipped scenarios)"]) from None
    except UnicodeDecodeError as error:
        raise ScenarioError([f"{name}: not a text file (byte {error.start} is not UTF-8); a scenario is YAML text"]) from None
    except OSError as error:
        raise ScenarioError([f"{name}: cannot be read ({error.strerror})"]) from None
    data, root = parse_yaml(text, name)
    if data is None:
        raise ScenarioError([f"{name}: the file is empty; start from `grapevine new NAME`"])
    if not isinstance(data, dict):
        raise ScenarioError([f"{name}, line {_line(root)}: the file must be a mapping of sections "
                             f"(name, description, seed, replications, market, firms, compare), "
                             f"not a {type(data).__name__}"])
    data.setdefault("name", re.sub(r"[^A-Za-z0-9_-]", "-", path.stem))
    from_command_line = []
    for item in overrides:
        from_command_line.append(apply_override(data, item))
    if replications is not None:
        data["replications"] = replications
        from_command_line.append(("replications",))
    scenario = validate(data, name, root, from_command_line)
    _check_paths(scenario, path, name)
    return scenario


def validate(data: Any, name: str = "scenario", root: yaml.Node | None = None,
             from_command_line: list[tuple] = ()) -> Scenario:
    """Validate plain data; problems are located in the YAML tree `root` when given."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(_explain(error, name, root, from_command_line)) from None


def parse_yaml(text: str, name: str) -> tuple[Any, yaml.Node | None]:
    """Safe YAML with limits: returns (data, node tree) or raises ScenarioError."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f", line {mark.line + 1}" if mark else ""
        raise ScenarioError([f"{name}{where}: not valid YAML: {error.problem or error.context}"]) from None
    except yaml.YAMLError as error:
        raise ScenarioError([f"{name}: not valid YAML: {error}"]) from None
    except RecursionError:
        raise ScenarioError([f"{name}: nested too deeply to be a scenario"]) from None
    if root is None:
        return None, None
    _check_tree(root, name)
    try:
        return yaml.SafeLoader("").construct_document(root), root
    except (yaml.YAMLError, ValueError) as error:
        raise ScenarioError([f"{name}: cannot be read as data: {error}"]) from None


def _check_tree(root: yaml.Node, name: str) -> None:
    """Refuse alias bombs, recursive aliases, huge numbers and duplicate keys, with their line."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise ScenarioError([f"{name}, line {_line(node)}: an alias refers to itself (a recursive structure)"])
        open_nodes.add(key)
        total = 1
        if isinstance(node, yaml.ScalarNode):
            if node.tag.endswith((":int", ":float")) and len(node.value) > MAX_DIGITS:
                raise ScenarioError([f"{name}, line {_line(node)}: the number {node.value[:20]}... has "
                                     f"{len(node.value)} characters; numbers are limited to {MAX_DIGITS}"])
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            seen = {}
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value != "<<":
                    if k.value in seen:
                        raise ScenarioError([f"{name}, line {_line(k)}: key '{k.value}' appears twice "
                                             f"(first on line {seen[k.value]})"])
                    seen[k.value] = _line(k)
                total += size(k) + size(v)
        if total > MAX_VALUES:
            raise ScenarioError([f"{name}, line {_line(node)}: expands to more than {MAX_VALUES:,} values "
                                 f"(aliases nested inside aliases: a 'YAML bomb'?); a scenario is small"])
        open_nodes.discard(key)
        sizes[key] = total
        return total

    try:
        size(root)
    except RecursionError:
        raise ScenarioError([f"{name}: nested too deeply to be a scenario"]) from None


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


# --- --set path=value ----------------------------------------------------------------
_PART = re.compile(r"([A-Za-z_]\w*)|\[(\d+)\]")


def parse_path(text: str) -> tuple:
    parts, pos = [], 0
    for match in _PART.finditer(text):
        if match.start() != pos and not (text[pos] == "." and match.start() == pos + 1 and parts):
            break
        parts.append(match.group(1) if match.group(1) else int(match.group(2)))
        pos = match.end()
    if pos != len(text) or not parts or not isinstance(parts[0], str):
        raise ScenarioError([f"--set {text}: not a field path; write e.g. market.n_people or firms[0].policies[1].effort"])
    return tuple(parts)


def setting_path(name: str, data: dict) -> tuple:
    """The field path of a setting to vary, checked against the scenario's data: a --set path
    ('market.n_people', 'firms[0].quality') or a name ('firms.Telco.quality',
    'arms.recover.policies[0].effort'). Used by sensitivity analyses and sweeps."""
    text = name.strip()
    for prefix, items, at in (("firms.", data.get("firms", []), ("firms",)),
                              ("arms.", data.get("compare", {}).get("arms", []), ("compare", "arms"))):
        if text.startswith(prefix):
            rest = text[len(prefix):]
            matches = [(i, item["name"]) for i, item in enumerate(items) if rest.startswith(item["name"] + ".")]
            if not matches:
                choices = ", ".join(item["name"] for item in items) or "none"
                raise ScenarioError([f"{name}: no {prefix[:-2]} of that name (choose from {choices})"])
            i, found = max(matches, key=lambda m: len(m[1]))
            path = (*at, i, *parse_path(rest[len(found) + 1:]))
            break
    else:
        path = parse_path(text)
    node: Any = data
    for depth, part in enumerate(path):
        ok = ((isinstance(node, dict) and part in node)
              or (isinstance(node, list) and isinstance(part, int) and part < len(node)))
        if not ok:
            where = _format(path[:depth]) or "the scenario"
            hint = ""
            if isinstance(node, dict):
                guess = difflib.get_close_matches(str(part), list(node), n=1)
                hint = f" (did you mean '{guess[0]}'?)" if guess else ""
            raise ScenarioError([f"{name}: {where} has no {part!r}{hint}"])
        node = node[part]
    return path


def apply_override(data: dict, item: str) -> tuple:
    """`path=value` (value in YAML: 3000, 0.8, [ServiceRecovery], {kind: SmallGifts})."""
    path_text, sep, value_text = item.partition("=")
    if not sep:
        raise ScenarioError([f"--set {item}: write path=value, e.g. --set market.n_people=3000"])
    path = parse_path(path_text.strip())
    value, _ = parse_yaml(value_text, f"--set {item}")
    target: Any = data
    for i, part in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(part, int):
            if not isinstance(target, list) or part >= len(target):
                raise ScenarioError([f"--set {item}: {_format(path[:i])} has no entry [{part}]"])
            target = target[part]
        else:
            if not isinstance(target, dict):
                raise ScenarioError([f"--set {item}: {_format(path[:i])} is not a section"])
            target = target.setdefault(part, [] if isinstance(nxt, int) else {})
    last = path[-1]
    if isinstance(last, int):
        if not isinstance(target, list) or last >= len(target):
            raise ScenarioError([f"--set {item}: {_format(path[:-1])} has no entry [{last}]"])
    elif not isinstance(target, dict):
        raise ScenarioError([f"--set {item}: {_format(path[:-1])} is not a section"])
    target[last] = value
    return path


# --- errors ----------------------------------------------------------------------------
def _explain(error: ValidationError, name: str, root, from_command_line) -> list[str]:
    lines = []
    for problem in error.errors():
        raw_loc = tuple(problem["loc"])
        ctx_error = (problem.get("ctx") or {}).get("error")
        if isinstance(ctx_error, _Located):
            raw_loc, message = ctx_error.loc, ctx_error.message
            lines.append(_where(name, root, raw_loc, from_command_line) + f"{_format(raw_loc)}: {message}")
            continue
        loc = _strip_tags(raw_loc)
        where = _where(name, root, loc, from_command_line)
        path = _format(loc) or "(top level)"
        kind, value = problem["type"], problem.get("input")
        if kind == "extra_forbidden":
            allowed = _fields_at(raw_loc[:-1])
            guess = difflib.get_close_matches(str(raw_loc[-1]), allowed, n=1)
            hint = f" (did you mean '{guess[0]}'?)" if guess else ""
            if len(raw_loc) == 1 and raw_loc[0] in MarketParameters.model_fields:
                hint = f" (did you mean 'market.{raw_loc[0]}'? market parameters go in the market section)"
            listed = ", ".join(allowed) if len(allowed) <= 12 else f"{len(allowed)} keys, see `grapevine schema`"
            lines.append(f"{where}{path}: unknown key{hint}; allowed here: {listed}")
        elif kind == "union_tag_invalid":
            kinds = sorted(POLICY_SPECS)
            guess = difflib.get_close_matches(str(problem["ctx"]["tag"]), kinds, n=1)
            hint = f" (did you mean '{guess[0]}'?)" if guess else ""
            lines.append(f"{where}{path}.kind = {problem['ctx']['tag']!r} is not a known policy{hint}; "
                         f"choose one of {', '.join(kinds)}")
        elif kind == "union_tag_not_found":
            lines.append(f"{where}{path}: a policy needs a name: write a plain name (SmallGifts) or "
                         f"{{kind: Name, setting: value}}; policies: {', '.join(sorted(POLICY_SPECS))}")
        elif kind == "missing":
            lines.append(f"{where}{path}: required but missing")
        elif kind in ("value_error", "assertion_error"):
            lines.append(f"{where}{path}: {problem['msg'].removeprefix('Value error, ')}")
        else:
            lines.append(f"{where}{path} = {_short(value)} is not allowed: {problem['msg'].lower()}")
    return lines


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _strip_tags(loc: tuple) -> tuple:
    """Drop the union tags pydantic puts in paths: policies.1.ServiceRecovery.effort -> policies.1.effort."""
    out = []
    for i, part in enumerate(loc):
        if isinstance(part, str) and part in POLICY_SPECS and i >= 2 and loc[i - 2] == "policies":
            continue
        if isinstance(part, str) and part.startswith("function-"):
            continue
        out.append(part)
    return tuple(out)


def _format(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _where(name: str, root, loc: tuple, from_command_line) -> str:
    for path in from_command_line:
        if loc[: len(path)] == path:
            return f"{name} (--set {_format(path)}): "
    node, mark = root, root
    for part in loc:
        child = key = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            key, child = next(((k, v) for k, v in node.value
                               if isinstance(k, yaml.ScalarNode) and k.value == part), (None, None))
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = key = node.value[part]
        if child is None:
            break
        node, mark = child, key
    return f"{name}, line {_line(mark)}: " if mark is not None else f"{name}: "


def _fields_at(loc: tuple) -> list[str]:
    """The field names allowed at `loc` (for "did you mean")."""
    model: Any = Scenario
    for part in loc:
        if isinstance(part, int) or part.startswith("function-"):
            continue
        if part in POLICY_SPECS:
            model = POLICY_SPECS[part]
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = _model_in(field.annotation)
    return list(getattr(model, "model_fields", {}))


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        if get_origin(arg) is Annotated or get_origin(arg) is Union:
            continue
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _check_paths(scenario: Scenario, path: Path, name: str) -> None:
    edges = scenario.market.edge_list_path
    if edges and not (path.parent / edges).exists() and not Path(edges).exists():
        raise ScenarioError([f"{name}: market.edge_list_path = {edges!r}: no such file"])


# --- listing and the starter -----------------------------------------------------------
def shipped_scenarios() -> list[tuple[str, str]]:
    """(name, one-line description) of every scenario in scenarios/."""
    out = []
    for path in sorted(SHIPPED.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text()) or {}
            out.append((path.stem, str(data.get("description", "")).strip()))
        except (yaml.YAMLError, OSError, AttributeError):
            out.append((path.stem, "(cannot be read)"))
    return out


STARTER = """\
# {name}: a Grapevine scenario. Edit the values; `grapevine validate {file}` checks them
# and `grapevine run {file}` runs them. Every key is optional unless marked (required).
# The full list of keys, with units and sources: `grapevine schema`.

name: {name}
description: What does caring for complaining customers do to retention and NPV?
sector: postpaid_mobile  # or prepaid_mobile, broadband, b2c_subscription, b2b_subscription:
                         # `grapevine run` sets the market's churn beside the sector's published churn

seed: 1              # same seed => same results
replications: 10     # paired runs per arm; more = narrower intervals

market:              # any market parameter; the rest keep their defaults
  n_people: 10000    # people on the social network
  months: 60         # horizon
  contract_months: 12
  price: 50          # monthly price
  discount_rate: 0.1 # per year, for NPV

firms:               # (required) one or more firms
  - name: Telco
    quality: 0.7         # mean service quality, 0 to 1
    failure_rate: 0.015  # chance of a service failure per customer per month
    # price: 50          # default: the market's price
    # advertising: 0.0025

compare:
  kind: arms         # arms = variants of one firm's policies; head_to_head = the firms compete
  baseline: ignore   # the arm the others are measured against
  arms:              # each arm sets the firm's policies; everything else stays equal
    - name: ignore
      policies: [IgnoreUntilRenewal]
    - name: recover
      policies:
        - kind: ServiceRecovery
          effort: 0.8    # 0 = token answer, 1 = everything it takes
    - name: gifts
      policies: [IgnoreUntilRenewal, SmallGifts]
"""


def starter(name: str, file: str) -> str:
    return STARTER.format(name=name, file=file)
