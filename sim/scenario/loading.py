"""Reading scenario files: YAML in, a typed `Scenario` out, or one `InputError` with readable lines.

    scenario = load_scenario("scenarios/quickstart.yaml", overrides=["replications=5"])

YAML is read safely and with limits (file size, alias expansion, number length, duplicate
keys). Every problem names the file, the line, the field path (`firms[0].policies[1].effort`),
the value and what is allowed; an unknown key gets a "did you mean".
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Annotated, Any, Callable, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import InputError, explain, format_path, short
from ..network import edge_list_size
from ..parameters import MarketParameters
from ..policies import Policy
from .paths import apply_override, get_at
from .schema import Scenario

MAX_FILE_BYTES = 1_000_000
MAX_VALUES = 100_000  # values after expanding YAML aliases (a "billion laughs" stops here)
MAX_DIGITS = 30
SHIPPED = Path(__file__).resolve().parent.parent.parent / "scenarios"


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
    """Read, check and validate a scenario file; raise InputError with readable lines."""
    path = Path(path)
    name = str(path)
    try:
        if path.is_dir():
            raise InputError(f"{name}: is a folder, not a scenario file")
        if path.exists() and not path.is_file():  # /dev/zero, a pipe: never read without end
            raise InputError(f"{name}: not a regular file (a device or a pipe); a scenario is a YAML text file")
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise InputError(f"{name}: the file is larger than {MAX_FILE_BYTES:,} bytes; a scenario is a short text file")
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise InputError(f"{name}: no such file (see `grapevine list` for the shipped scenarios)") from None
    except UnicodeDecodeError as error:
        raise InputError(f"{name}: not a text file (byte {error.start} is not UTF-8); a scenario is YAML text") from None
    except OSError as error:
        raise InputError(f"{name}: cannot be read ({error.strerror})") from None
    data, root = parse_yaml(text, name)
    if data is None:
        raise InputError(f"{name}: the file is empty; start from `grapevine new NAME`")
    if not isinstance(data, dict):
        raise InputError(f"{name}, line {_line(root)}: the file must be a mapping of sections "
                         f"(name, description, seed, replications, market, firms, compare), "
                         f"not a {type(data).__name__}")
    data.setdefault("name", name_from_file(path))
    return from_data(data, name, root, overrides, replications, folder=path.resolve().parent)


def name_from_file(path: Path) -> str:
    """The scenario's name when the file gives none: its file name in the letters a name allows
    ('été résumé.yaml' -> 'ete-resume'), so that a missing name is never an error."""
    ascii_name = unicodedata.normalize("NFKD", path.stem).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", ascii_name).strip("-_")[:60].strip("-_")
    return cleaned or "scenario"


def from_data(data: dict, name: str = "scenario", root: yaml.Node | None = None, overrides: list[str] = (),
              replications: int | None = None, folder: Path | None = None) -> Scenario:
    """A scenario from plain data with `--set` overrides (and replications) applied; `data` is changed.
    Relative file paths in it (`market.edge_list_path`, in the file or a --set) are read from `folder`,
    the scenario file's folder (default: the working folder)."""
    from_command_line = [apply_override(data, item, _yaml_value) for item in overrides]
    if replications is not None:
        data["replications"] = replications
        from_command_line.append(("replications",))
    _resolve_edge_lists(data, folder or Path.cwd())
    _population_given(data, name, root, from_command_line)
    return validate(data, name, root, from_command_line)


def validate(data: Any, name: str = "scenario", root: yaml.Node | None = None,
             from_command_line: list[tuple] = ()) -> Scenario:
    """Validate plain data; problems are located in the YAML tree `root` when given. With network
    edge_list the file is read and checked here, and decides `market.n_people`."""
    _people_from_edge_list(data, lambda loc: _where(name, root, loc, from_command_line))
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        raise InputError(explain(
            error,
            where=lambda loc: _where(name, root, loc, from_command_line),
            fields_at=lambda loc: _fields_at(data, loc),
            hint_for_unknown=lambda loc: (f" (did you mean 'market.{loc[0]}'? market parameters go in the "
                                          f"market section)" if len(loc) == 1 and loc[0] in MarketParameters.model_fields
                                          else ""),
        )) from None


def parse_yaml(text: str, name: str) -> tuple[Any, yaml.Node | None]:
    """Safe YAML with limits: returns (data, node tree) or raises InputError."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f", line {mark.line + 1}" if mark else ""
        raise InputError(f"{name}{where}: not valid YAML: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise InputError(f"{name}: not valid YAML: {error}") from None
    except RecursionError:
        raise InputError(f"{name}: nested too deeply to be a scenario") from None
    if root is None:
        return None, None
    _check_tree(root, name)
    try:
        return yaml.SafeLoader("").construct_document(root), root
    except yaml.MarkedYAMLError as error:  # e.g. a !!python tag: one line, where it is
        mark = error.problem_mark or error.context_mark
        where = f", line {mark.line + 1}" if mark else ""
        problem = str(error.problem or error.context).replace("could not determine a constructor for",
                                                              "cannot read")
        raise InputError(f"{name}{where}: {problem}; a scenario holds plain values (no tags)") from None
    except (yaml.YAMLError, ValueError) as error:
        raise InputError(f"{name}: cannot be read as data: {' '.join(str(error).split())}") from None


def _yaml_value(text: str, name: str) -> Any:
    return parse_yaml(text, name)[0]


def _check_tree(root: yaml.Node, name: str) -> None:
    """Refuse alias bombs, recursive aliases, huge numbers and duplicate keys, with their line."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise InputError(f"{name}, line {_line(node)}: an alias refers to itself (a recursive structure)")
        open_nodes.add(key)
        total = 1
        if isinstance(node, yaml.ScalarNode):
            if node.tag.endswith((":int", ":float")) and len(node.value) > MAX_DIGITS:
                raise InputError(f"{name}, line {_line(node)}: the number {node.value[:20]}... has "
                                 f"{len(node.value)} characters; numbers are limited to {MAX_DIGITS}")
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            seen = {}
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value != "<<":
                    if k.value in seen:
                        raise InputError(f"{name}, line {_line(k)}: key '{k.value}' appears twice "
                                         f"(first on line {seen[k.value]})")
                    seen[k.value] = _line(k)
                total += size(k) + size(v)
        if total > MAX_VALUES:
            raise InputError(f"{name}, line {_line(node)}: expands to more than {MAX_VALUES:,} values "
                             f"(aliases nested inside aliases: a 'YAML bomb'?); a scenario is small")
        open_nodes.discard(key)
        sizes[key] = total
        return total

    try:
        size(root)
    except RecursionError:
        raise InputError(f"{name}: nested too deeply to be a scenario") from None


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _where(name: str, root, loc: tuple, from_command_line) -> str:
    """'file.yaml, line 12: ' for the deepest node of `loc` found in the YAML tree."""
    for path in from_command_line:
        if loc[: len(path)] == path:
            return f"{name} (--set {format_path(path)}): "
    node, mark = root, root
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            key, child = next(((k, v) for k, v in node.value
                               if isinstance(k, yaml.ScalarNode) and k.value == part), (None, None))
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = key = node.value[part]
        if child is None:
            break
        node, mark = child, key
    return f"{name}, line {_line(mark)}: " if mark is not None else f"{name}: "


def _fields_at(data: Any, loc: tuple) -> list[str]:
    """The keys allowed in the mapping at `loc` (for "did you mean"): a policy's by its kind."""
    try:
        here = get_at(data, loc)
    except (KeyError, IndexError, TypeError):
        here = None
    if isinstance(here, dict) and isinstance(here.get("kind"), str) and here["kind"] in Policy.registry:
        return ["kind", *Policy.registry[here["kind"]].model_fields]
    model: Any = Scenario
    for part in loc:
        if isinstance(part, int):
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


# --- edge-list files: one rule for relative paths; the file decides the number of people ---------
EDGE_LIST = ("market", "edge_list_path")


def _resolve_edge_lists(data: Any, folder: Path) -> None:
    """Relative edge-list paths (the market's, and the values a sweep gives it) are relative to
    `folder`: made absolute here, once, so every later reader opens the same file."""
    if not isinstance(data, dict):
        return
    market = data.get("market")
    if isinstance(market, dict) and isinstance(market.get("edge_list_path"), str):
        market["edge_list_path"] = _absolute(market["edge_list_path"], folder)
    sweep = data.get("sweep")
    values = sweep.get("parameters", {}).get("market.edge_list_path") if isinstance(sweep, dict) else None
    if isinstance(values, list):
        sweep["parameters"]["market.edge_list_path"] = [_absolute(v, folder) if isinstance(v, str) else v
                                                         for v in values]


def _absolute(text: str, folder: Path) -> str:
    path = Path(text).expanduser()
    return str(path if path.is_absolute() else folder / path)


def _edge_list_market(data: Any) -> dict | None:
    """The market section, when it takes its network from a file."""
    market = data.get("market") if isinstance(data, dict) else None
    if (isinstance(market, dict) and market.get("network") == "edge_list"
            and isinstance(market.get("edge_list_path"), str)):
        return market
    return None


def _population_given(data: Any, name: str, root, from_command_line) -> None:
    """`market.n_people` given with an edge list must agree with the file: it is never ignored."""
    market = _edge_list_market(data)
    if market is None or "n_people" not in market:
        return
    people = _edge_list_people(market["edge_list_path"], lambda loc: _where(name, root, loc, from_command_line))
    if market["n_people"] != people:
        where = _where(name, root, ("market", "n_people"), from_command_line)
        raise InputError(f"{where}market.n_people = {short(market['n_people'])} is not allowed: the edge-list file "
                         f"has {people:,} people, and with network edge_list the file decides (leave n_people "
                         f"out, or give {people})")


def _people_from_edge_list(data: Any, where: Callable[[tuple], str]) -> None:
    market = _edge_list_market(data)
    if market is not None:
        market["n_people"] = _edge_list_people(market["edge_list_path"], where)


def _edge_list_people(path: str, where: Callable[[tuple], str]) -> int:
    try:
        return edge_list_size(path)[0]
    except ValueError as error:
        raise InputError(f"{where(EDGE_LIST)}market.{error}") from None
