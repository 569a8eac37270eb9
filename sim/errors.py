"""Errors for people: one line per problem, naming the field, the value and what is allowed.

Every layer raises `InputError` for bad input (a scenario file, a `--set`, a keyword of the
Python API); the command line prints its lines and exits 2, Python callers get a ValueError.
`explain` turns a pydantic ValidationError into those lines, for the engine's keywords and for
scenario files alike (the scenario loader adds where in the file each problem is).
"""

from __future__ import annotations

import difflib
from typing import Any, Callable

from pydantic import ValidationError


class InputError(ValueError):
    """Bad input: a list of problems, each already a readable line."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class Located(ValueError):
    """A cross-field problem raised inside a validator with the field path it belongs to,
    relative to the model whose validator raises it."""

    def __init__(self, loc: tuple, message: str):
        self.loc, self.message = loc, message
        super().__init__(message)


_PATTERN_WORDS: dict[str, str] = {}


def pattern(regex: str, words: str) -> str:
    """`regex`, remembered with the words that say what it allows (errors show those, not the regex)."""
    _PATTERN_WORDS[regex] = words
    return regex


def format_path(loc: tuple) -> str:
    """('firms', 0, 'policies', 1, 'effort') -> 'firms[0].policies[1].effort'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def explain(
    error: ValidationError,
    prefix: tuple = (),
    where: Callable[[tuple], str] = lambda loc: "",
    fields_at: Callable[[tuple], list[str]] | None = None,
    hint_for_unknown: Callable[[tuple], str] = lambda loc: "",
    noun: str = "key",
) -> list[str]:
    """One line per problem of `error`: '<where>path = value is not allowed: what is allowed'.

    `prefix` is put before every path (e.g. ('firms', 0)); `where(loc)` says where the problem is
    ('file.yaml, line 12: '); `fields_at(loc)` lists the keys allowed at a mapping, for unknown keys
    ("did you mean"); `hint_for_unknown(loc)` may add a sentence of its own."""
    lines = []
    for problem in error.errors():
        loc = prefix + tuple(part for part in problem["loc"] if not str(part).startswith("function-"))
        context = (problem.get("ctx") or {}).get("error")
        if isinstance(context, Located):  # its path is relative to the model that raised it
            loc = loc + context.loc
            lines.append(f"{where(loc)}{format_path(loc) or 'input'}: {context.message}")
            continue
        path, kind, value = format_path(loc) or "input", problem["type"], problem.get("input")
        if kind == "extra_forbidden":
            allowed = fields_at(loc[:-1]) if fields_at else []
            guess = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = hint_for_unknown(loc) or (f" (did you mean '{guess[0]}'?)" if guess else "")
            listed = ", ".join(allowed) if len(allowed) <= 12 else f"{len(allowed)} {noun}s, see `grapevine schema`"
            shown = f"; allowed here: {listed}" if allowed and (noun == "key" or len(allowed) <= 12) else ""
            lines.append(f"{where(loc)}{path}: unknown {noun}{hint}{shown}")
        elif kind == "missing":
            lines.append(f"{where(loc)}{path}: required but missing")
        elif kind == "string_pattern_mismatch" and (problem.get("ctx") or {}).get("pattern") in _PATTERN_WORDS:
            lines.append(f"{where(loc)}{path} = {short(value)} is not allowed: use "
                         f"{_PATTERN_WORDS[problem['ctx']['pattern']]}")
        elif kind in ("value_error", "assertion_error"):
            lines.append(f"{where(loc)}{path}: {problem['msg'].removeprefix('Value error, ')}")
        else:
            lines.append(f"{where(loc)}{path} = {short(value)} is not allowed: {_lower_first(problem['msg'])}")
    return lines


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def validated(model: type, settings: dict, prefix: tuple = ()) -> Any:
    """`model(**settings)`, or InputError naming each bad field (for the engine's Python API)."""
    try:
        return model(**settings)
    except ValidationError as error:
        fields = list(getattr(model, "model_fields", {}))
        raise InputError(explain(error, prefix, fields_at=lambda loc: fields if len(loc) == len(prefix) else [],
                                 noun="parameter")) from None
