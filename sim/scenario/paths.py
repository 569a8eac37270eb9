"""Field paths into a scenario's data: `--set market.n_people=3000`, and the settings a sweep,
a sensitivity analysis or a calibration varies (`firms.Telco.quality`, `arms.recover.policies[0].effort`).

    path = setting_path("firms.Telco.quality", data)   # ('firms', 0, 'quality'), checked against data
    set_at(data, path, 0.8); get_at(data, path)
"""

from __future__ import annotations

import copy
import difflib
import re
from typing import Any

from ..errors import InputError, format_path

_PART = re.compile(r"([A-Za-z_]\w*)|\[(\d+)\]")


def parse_path(text: str) -> tuple:
    """'firms[0].policies[1].effort' -> ('firms', 0, 'policies', 1, 'effort')."""
    parts, pos = [], 0
    for match in _PART.finditer(text):
        if match.start() != pos and not (text[pos] == "." and match.start() == pos + 1 and parts):
            break
        parts.append(match.group(1) if match.group(1) else int(match.group(2)))
        pos = match.end()
    if pos != len(text) or not parts or not isinstance(parts[0], str):
        raise InputError(f"--set {text}: not a field path; write e.g. market.n_people or firms[0].policies[1].effort")
    return tuple(parts)


def setting_path(name: str, data: dict) -> tuple:
    """The field path of a setting to vary, checked against the scenario's data: a --set path
    ('market.n_people', 'firms[0].quality') or a name ('firms.Telco.quality',
    'arms.recover.policies[0].effort')."""
    text = name.strip()
    for prefix, items, at in (("firms.", data.get("firms", []), ("firms",)),
                              ("arms.", data.get("compare", {}).get("arms", []), ("compare", "arms"))):
        if text.startswith(prefix):
            rest = text[len(prefix):]
            matches = [(i, item["name"]) for i, item in enumerate(items) if rest.startswith(item["name"] + ".")]
            if not matches:
                choices = ", ".join(item["name"] for item in items) or "none"
                raise InputError(f"{name}: no {prefix[:-2]} of that name (choose from {choices})")
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
            where = format_path(path[:depth]) or "the scenario"
            hint = ""
            if isinstance(node, dict):
                guess = difflib.get_close_matches(str(part), list(node), n=1)
                hint = f" (did you mean '{guess[0]}'?)" if guess else ""
            raise InputError(f"{name}: {where} has no {part!r}{hint}")
        node = node[part]
    return path


def get_at(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


def set_at(data: Any, path: tuple, value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = copy.deepcopy(value)


def apply_override(data: dict, item: str, parse_value) -> tuple:
    """`path=value` (value in YAML: 3000, 0.8, [ServiceRecovery], {kind: SmallGifts}); sections
    and list entries on the way must exist, except a missing section, which is created."""
    path_text, sep, value_text = item.partition("=")
    if not sep:
        raise InputError(f"--set {item}: write path=value, e.g. --set market.n_people=3000")
    path = parse_path(path_text.strip())
    value = parse_value(value_text, f"--set {item}")
    target: Any = data
    for i, part in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(part, int):
            if not isinstance(target, list) or part >= len(target):
                raise InputError(f"--set {item}: {format_path(path[:i])} has no entry [{part}]")
            target = target[part]
        else:
            if not isinstance(target, dict):
                raise InputError(f"--set {item}: {format_path(path[:i])} is not a section")
            target = target.setdefault(part, [] if isinstance(nxt, int) else {})
    last = path[-1]
    if isinstance(last, int):
        if not isinstance(target, list) or last >= len(target):
            raise InputError(f"--set {item}: {format_path(path[:-1])} has no entry [{last}]")
    elif not isinstance(target, dict):
        raise InputError(f"--set {item}: {format_path(path[:-1])} is not a section")
    target[last] = value
    return path
