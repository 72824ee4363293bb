"""The layout: dependencies point inward, no import circles, the devkit stays out of the product."""

from __future__ import annotations

import pytest

from tests.import_graph import ImportGraph, package_of

pytestmark = pytest.mark.unit

PRODUCT = ("connector", "adapters", "jobs")


@pytest.fixture(scope="module")
def graph() -> ImportGraph:
    return ImportGraph.read()


def _outside(importers: dict[str, set[str]], allowed_prefixes: tuple[str, ...]) -> dict[str, set[str]]:
    return {m: targets for m, targets in importers.items() if not m.startswith(allowed_prefixes)}


def test_no_module_is_imported_in_a_circle(graph: ImportGraph) -> None:
    assert graph.cycles() == []


def test_no_package_is_imported_in_a_circle(graph: ImportGraph) -> None:
    packages = graph.collapsed({module: package_of(module, graph) for module in graph.edges})
    assert packages.cycles() == []


def test_the_product_never_imports_the_devkit(graph: ImportGraph) -> None:
    importers = graph.importers_of("sandbox")
    assert _outside(importers, ("sandbox",)) == {}


def test_adapters_depend_only_on_the_port_and_the_errors_of_the_core(graph: ImportGraph) -> None:
    allowed = {"connector.port", "connector.port_embedded", "connector.port_events", "connector.errors"}
    wrong = {
        module: targets - allowed
        for module, targets in graph.importers_of("connector").items()
        if module.startswith("adapters") and targets - allowed
    }
    assert wrong == {}


def test_the_core_names_no_platform(graph: ImportGraph) -> None:
    """Platforms are found by name (connector.platforms), never imported by the core."""
    assert _outside(graph.importers_of("adapters"), ("adapters", "sandbox")) == {}


def test_the_imaging_library_imports_nothing_of_the_service(graph: ImportGraph) -> None:
    for outer in ("connector", "adapters", "sandbox", "jobs.tasks"):
        importers = graph.importers_of(outer)
        assert {m: t for m, t in importers.items() if m.startswith("jobs.imaging")} == {}, outer


def test_the_graph_sees_imports_inside_functions_and_leaves_type_only_ones_out(graph: ImportGraph) -> None:
    # connector.imaging imports the library inside functions (it loads on first use) ...
    assert "jobs.imaging" in graph.edges["connector.imaging"]
    # ... and processing names the library's types only for the type checker
    assert "jobs.imaging" not in graph.edges["connector.processing"]


def test_rq_jobs_are_queued_by_name_never_imported_by_the_core(graph: ImportGraph) -> None:
    """jobs.tasks imports the core; the core queues its functions by dotted name (connector.enqueue)."""
    assert graph.importers_of("jobs.tasks") == {}
    assert "connector" in {m.split(".")[0] for m in graph.edges["jobs.tasks"]}


def test_the_cli_adds_the_devkit_commands_through_entry_points_only() -> None:
    from connector.cli.base import LAZY_COMMANDS, _plugin_commands

    assert all(module.startswith("connector.") for module, _ in LAZY_COMMANDS.values())
    assert {"demo", "sandbox"} <= set(_plugin_commands())  # declared by devkit/pyproject.toml
