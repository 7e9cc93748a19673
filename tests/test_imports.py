"""The import graph of service/ and repositories/, read from the source (every
import a module runs, at its top or inside a function): no cycles, and imports
point one way, service -> repositories. In tests/, no module imports a test module."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from repositories.config import PROJECT_ROOT as ROOT

PACKAGES = ("service", "repositories")


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool

    @property
    def package(self) -> str:
        return self.name if self.is_package else self.name.rpartition(".")[0]


def modules(packages: tuple[str, ...] = PACKAGES) -> dict[str, Module]:
    found: dict[str, Module] = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            found[".".join(parts)] = Module(".".join(parts), path, is_package)
    return found


def _type_checking_only(node: ast.If) -> bool:
    """`if TYPE_CHECKING:` blocks never run: they name types, not dependencies."""
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and _type_checking_only(node):
            pending.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        pending.extend(ast.iter_child_nodes(node))
    return found


def imported_by(module: Module, known: dict[str, Module]) -> set[str]:
    """The modules of `known` that `module` imports."""
    targets: set[str] = set()
    for node in _imports(ast.parse(module.path.read_text(), str(module.path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names if alias.name in known)
            continue
        if node.level:
            base = module.package.split(".")[: len(module.package.split(".")) - node.level + 1]
            origin = ".".join([*base, *([node.module] if node.module else [])])
        else:
            origin = node.module or ""
        for alias in node.names:
            submodule = f"{origin}.{alias.name}"
            if submodule in known:
                targets.add(submodule)
            elif origin in known:
                targets.add(origin)
    targets.discard(module.name)
    return targets


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported_by(module, known) for name, module in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        on_stack.add(name)
        for target in sorted(edges.get(name, ())):
            if target not in index:
                visit(target)
                low[name] = min(low[name], low[target])
            elif target in on_stack:
                low[name] = min(low[name], index[target])
        if low[name] == index[name]:
            group: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == name:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for name in sorted(edges):
        if name not in index:
            visit(name)
    return sorted(groups)


def test_the_cycle_finder_finds_a_cycle_through_three_modules() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]


def test_the_graph_sees_imports_inside_functions_and_relative_ones() -> None:
    edges = graph()
    # service/__main__.py imports the server inside main(), relatively.
    assert "service.server" in edges["service.__main__"]
    assert "repositories.models" in edges["service.resources"]


def test_no_module_of_service_or_repositories_imports_itself_back() -> None:
    assert cycles(graph()) == []


def test_repositories_never_import_the_service_layer() -> None:
    wrong = {
        name: sorted(t for t in targets if t.split(".")[0] == "service")
        for name, targets in graph().items()
        if name.split(".")[0] == "repositories"
    }
    assert {name: targets for name, targets in wrong.items() if targets} == {}


def test_no_module_of_tests_imports_a_test_module_or_conftest() -> None:
    """What test modules share lives in helper modules (api, rows, apps, probes, ...):
    importing a test module would run its module code, and its fixtures, elsewhere."""
    known = modules(("tests",))

    def is_test_module(name: str) -> bool:
        last = name.rpartition(".")[2]
        return last.startswith("test_") or last == "conftest"

    wrong = {
        name: sorted(t for t in imported_by(module, known) if is_test_module(t))
        for name, module in known.items()
    }
    assert {name: targets for name, targets in wrong.items() if targets} == {}
