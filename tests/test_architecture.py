"""The layout holds: no import cycle anywhere in functions/, and every import goes down the
layers below (function-local and type-checking imports included). Each package says in its
docstring what it owns and what it may import."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parents[1] / "functions"
TOP_PACKAGES = ("smart_routing", "smart_routing_firebase", "venues")

# Lowest first. A unit (a package, or a top-level module of one) may import from its own unit
# and the units of the layers before it, never from those after.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("smart_routing.logs", "smart_routing.domain"),
    ("smart_routing.market",),
    ("smart_routing.gate",),
    ("smart_routing.portfolio",),
    ("smart_routing.ports",),
    ("smart_routing.strategies",),
    ("smart_routing.execution",),
    ("smart_routing.tca", "smart_routing.config"),
    ("smart_routing.adapters", "smart_routing.replay"),
    ("smart_routing.runtime",),
    ("smart_routing.demo",),
    ("smart_routing.cli",),
    ("smart_routing.__main__",),
    ("venues.http", "venues.settings"),
    ("venues.fill_entries", "venues.instrument_specs", "venues.class_router", "venues.recording"),
    ("venues.quote_sources", "venues.alpaca", "venues.oanda"),
    ("venues.wiring",),
    ("smart_routing_firebase.stores",),
    ("smart_routing_firebase.platform",),
    ("smart_routing_firebase.reconciliation",),
    ("smart_routing_firebase.handlers",),
    ("main",),
)
# Third-party packages a part of the code must never import, by what it is.
CLOUD = ("firebase_functions", "firebase_admin", "google")
FORBIDDEN = {
    "smart_routing": (*CLOUD, "venues", "smart_routing_firebase", "alpaca", "oandapyV20"),
    "venues": (*CLOUD, "smart_routing_firebase"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(FUNCTIONS).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    found = {"main": FUNCTIONS / "main.py"}
    for top in TOP_PACKAGES:
        for path in (FUNCTIONS / top).rglob("*.py"):
            found[module_name(path)] = path
    return found


def imported_names(name: str, path: Path) -> Iterator[str]:
    """Every module name an import statement anywhere in the file names, made absolute."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


@cache
def internal_edges() -> dict[str, set[str]]:
    known = modules()
    return {
        name: {target for target in imported_names(name, path) if target in known} - {name}
        for name, path in known.items()
    }


def unit_of(name: str) -> str:
    parts = name.split(".")
    return ".".join(parts[:2]) if parts[0] in TOP_PACKAGES and len(parts) > 1 else parts[0]


def layer_of(unit: str) -> int | None:
    return next((i for i, layer in enumerate(LAYERS) if unit in layer), None)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(edges[target]))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def relative(name: str) -> str:
    return str(modules()[name].relative_to(FUNCTIONS.parent))


def test_the_graph_sees_every_kind_of_import():
    """Function-local, type-checking and package-relative imports all count as edges."""
    edges = internal_edges()
    assert "smart_routing_firebase.handlers.execute_strategy" in edges["main"]  # inside a def
    assert "smart_routing.portfolio.ledger" in edges["smart_routing.ports"]  # TYPE_CHECKING
    assert len(modules()) > 100


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_functions():
    found = cycles(internal_edges())
    assert found == [], "import cycles: " + "; ".join(
        " -> ".join(relative(name) for name in cycle) for cycle in found
    )


def test_every_unit_has_a_layer():
    units = {unit_of(name) for name in modules()} - set(TOP_PACKAGES)
    assert sorted(unit for unit in units if layer_of(unit) is None) == []


def test_imports_go_down_the_layers():
    broken = []
    for name, targets in internal_edges().items():
        here = layer_of(unit_of(name))
        for target in sorted(targets):
            there = layer_of(unit_of(target))
            if unit_of(target) in TOP_PACKAGES or unit_of(target) == unit_of(name):
                continue
            if here is None or there is None or there > here:
                broken.append(f"{relative(name)} imports {target} (a layer above)")
    assert broken == []


def test_the_core_and_the_venues_import_nothing_they_must_not():
    broken = []
    for name, path in modules().items():
        forbidden = FORBIDDEN.get(name.split(".")[0], ())
        for target in imported_names(name, path):
            if target.split(".")[0] in forbidden:
                broken.append(f"{relative(name)} imports {target}")
    assert sorted(set(broken)) == []


def test_every_package_says_what_it_owns_and_may_import():
    missing = []
    for name, path in modules().items():
        if path.name != "__init__.py" or name in TOP_PACKAGES:
            continue
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        if "May import" not in doc:
            missing.append(relative(name))
    assert missing == []
