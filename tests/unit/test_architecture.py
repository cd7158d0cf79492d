"""The shape of the package, as docs/architecture.md draws it: no import cycle anywhere, modules of a
readable size, no private name imported across modules, and entrypoints that only translate.

The layer rules themselves are import-linter contracts (pyproject.toml, ``make lint``); what they
cannot say is checked here, from the same import graph (grimp, which import-linter is built on).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp
import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "functions" / "netwarden"
ARCHITECTURE = PACKAGE.parents[1] / "docs" / "architecture.md"
MAX_LINES = 400
#: The entrypoints that translate one input into one use-case call through ``wiring``.
TRANSLATORS = ("netwarden.entrypoints.cli", "netwarden.entrypoints.job", "netwarden.entrypoints.function")
#: What a translator must reach only through ``wiring``: use-cases, lifecycle, planning, state.
NOT_FOR_TRANSLATORS = ("netwarden.app", "netwarden.core.lifecycle", "netwarden.core.plan", "netwarden.adapters")


def cycles(imports: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The import cycles of a graph (module -> modules it imports): its strongly connected components
    of more than one module, and modules that import themselves (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(imports):
        if root in index:
            continue
        work = [(root, iter(sorted(imports.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(imports.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
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
                if len(component) > 1 or node in imports.get(node, ()):
                    found.append(sorted(component))
    return found


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("netwarden")


@pytest.mark.parametrize(("imports", "expected"), [
    ({"a": ["b"], "b": ["c"], "c": []}, []),
    ({"a": ["b"], "b": ["a"]}, [["a", "b"]]),
    ({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}, [["a", "b", "c"]]),
    ({"a": ["a"]}, [["a"]]),
    ({"a": ["b"], "b": ["a"], "c": ["d"], "d": ["c"]}, [["a", "b"], ["c", "d"]]),
])
def test_the_cycle_finder_finds_cycles(imports: dict[str, list[str]], expected: list[list[str]]) -> None:
    assert sorted(cycles(imports)) == expected


def test_the_package_has_no_import_cycle(graph: grimp.ImportGraph) -> None:
    imports = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules if m.startswith("netwarden")}
    assert len(imports) > 100
    assert cycles(imports) == []


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_every_module_is_under_the_size_a_reader_holds(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines < MAX_LINES, f"{path.relative_to(PACKAGE)}: {lines} lines; split it by what it holds"


def _private_imports(path: Path) -> list[str]:
    """``from netwarden.x import _name`` in ``path``: a private name taken from another module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.module}.{alias.name}"
            for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "netwarden") for alias in node.names if alias.name.startswith("_") and not alias.name.startswith("__")]


def test_no_module_imports_another_modules_private_names() -> None:
    assert [hit for path in sorted(PACKAGE.rglob("*.py")) for hit in _private_imports(path)] == []


@pytest.mark.parametrize("module", TRANSLATORS)
def test_entrypoints_reach_the_use_cases_only_through_wiring(graph: grimp.ImportGraph, module: str) -> None:
    direct = graph.find_modules_directly_imported_by(module)
    assert "netwarden.entrypoints.wiring" in direct or "netwarden.entrypoints.cli_commands" in direct
    assert sorted(m for m in direct if m.startswith(NOT_FOR_TRANSLATORS)) == []


def test_the_cli_commands_reach_the_use_cases_only_through_wiring(graph: grimp.ImportGraph) -> None:
    """The CLI's command handlers may render a result (``app.remediate_report``) and write it to a file
    (``adapters.files``) but run nothing themselves: every use-case, lifecycle and state call goes
    through ``wiring``."""
    output = {"netwarden.app.remediate_report", "netwarden.adapters.files"}
    direct = graph.find_modules_directly_imported_by("netwarden.entrypoints.cli_commands")
    assert "netwarden.entrypoints.wiring" in direct
    assert sorted(m for m in direct if m.startswith(NOT_FOR_TRANSLATORS) and m not in output) == []


def test_the_architecture_page_names_every_package_and_use_case() -> None:
    """docs/architecture.md stays true: every package of core, and every module of core's root, of
    app and of entrypoints, is on the page."""
    page = ARCHITECTURE.read_text(encoding="utf-8")
    named = [f"{p.name}/" for p in sorted((PACKAGE / "core").iterdir()) if (p / "__init__.py").is_file()]
    named += [p.name for layer in ("core", "app", "entrypoints") for p in sorted((PACKAGE / layer).glob("*.py"))
              if p.name != "__init__.py"]
    assert len(named) > 25
    assert [name for name in named if name not in page] == []
