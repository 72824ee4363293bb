"""The project's import graph, read from the source with ``ast`` (no module is imported).

Used by the layout tests: which module imports which (at run time: imports under
``if TYPE_CHECKING:`` are left out), the packages those modules belong to, and the cycles.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Where each top-level package's source lives.
SOURCES = {"connector": ROOT, "adapters": ROOT, "jobs": ROOT, "sandbox": ROOT / "devkit"}


def module_files(top: str) -> Iterator[tuple[str, Path]]:
    """``(dotted name, path)`` of every module of a top-level package."""
    base = SOURCES[top]
    for path in sorted((base / top).rglob("*.py")):
        parts = list(path.relative_to(base).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            node.body = []  # type-only imports create no run-time edge
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            for alias in node.names:  # `from pkg import module` imports the module, not the package
                name = f"{prefix}.{alias.name}"
                yield name if name in known else prefix


@dataclass
class ImportGraph:
    """Modules of the given top-level packages and the imports between them."""

    edges: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def read(cls, tops: Iterable[str] = tuple(SOURCES)) -> ImportGraph:
        files = {name: path for top in tops for name, path in module_files(top)}
        graph = cls({name: set() for name in files})
        for name, path in files.items():
            tree = ast.parse(path.read_text(), str(path))
            for target in _imports(tree, name, path.name == "__init__.py", set(files)):
                if target in files and target != name:
                    graph.edges[name].add(target)
        return graph

    def importers_of(self, prefix: str) -> dict[str, set[str]]:
        """Each module that imports something under ``prefix`` (a package or module), with what."""
        found: dict[str, set[str]] = {}
        for source, targets in self.edges.items():
            hits = {t for t in targets if t == prefix or t.startswith(prefix + ".")}
            if hits:
                found[source] = hits
        return found

    def collapsed(self, package_of: dict[str, str]) -> ImportGraph:
        """The graph between groups of modules (e.g. packages): ``package_of`` maps module → group."""
        out = ImportGraph({group: set() for group in set(package_of.values())})
        for source, targets in self.edges.items():
            for target in targets:
                a, b = package_of[source], package_of[target]
                if a != b:
                    out.edges[a].add(b)
        return out

    def cycles(self) -> list[list[str]]:
        """Strongly connected components with more than one node (Tarjan's algorithm)."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        found: list[list[str]] = []

        def visit(node: str) -> None:
            index[node] = low[node] = len(index)
            stack.append(node)
            on_stack.add(node)
            for target in sorted(self.edges[node]):
                if target not in index:
                    visit(target)
                    low[node] = min(low[node], low[target])
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
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

        for node in sorted(self.edges):
            if node not in index:
                visit(node)
        return found


def package_of(module: str, graph: ImportGraph) -> str:
    """The package a module belongs to: itself when it is a package, else its parent.

    A ``__main__`` module is an entry point (like a console script), not part of its package.
    """
    if module.endswith(".__main__"):
        return module
    children = any(other.startswith(module + ".") for other in graph.edges)
    return module if children else module.rpartition(".")[0] or module
