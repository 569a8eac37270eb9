"""The layout shows the layers: the import graph of sim/ has no cycle, and layers import downward only.

Layers, bottom to top: the engine (modules at the top of sim/, phases, policies), scenario input,
experiments, outputs, and the command line (cli, api). Read with the standard library's `ast`,
imports inside functions included, so a late import cannot hide a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

SIM = Path(__file__).resolve().parent.parent / "sim"
LAYERS = ("engine", "scenario", "experiments", "outputs", "top")


def modules() -> dict[str, Path]:
    found = {}
    for path in SIM.rglob("*.py"):
        parts = path.relative_to(SIM.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports() -> dict[str, set[str]]:
    """Module -> the sim modules it imports (a package's own __init__ is not counted as imported)."""
    mods = modules()
    graph = {name: set() for name in mods}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    root = ".".join(parts[: len(parts) - node.level + 1])
                    base = f"{root}.{node.module}" if node.module else root
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            for target in targets:
                while target and target not in mods:
                    target = target.rsplit(".", 1)[0] if "." in target else ""
                if target and target != name and not (name.startswith(target + ".") and target == "sim"):
                    graph[name].add(target)
    return graph


def layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("cli", "api"):
        return LAYERS.index("top")
    return LAYERS.index(parts[1]) if parts[1] in LAYERS else LAYERS.index("engine")


def test_the_import_graph_has_no_cycle():
    graph = imports()
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert not cycles, cycles


def test_layers_import_downward_only():
    upward = [f"{source} -> {target}" for source, targets in imports().items() for target in targets
              if layer(target) > layer(source)]
    assert not upward, upward
