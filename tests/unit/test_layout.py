"""The package layout: plain code in ``lib/``, Dagster definitions in ``defs/``, the entry
points (CLI, build, definitions) on top; imports only go downward."""

import ast
from pathlib import Path

from dagster_project.lib.settings import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "dagster_project"
ENTRY_POINTS = ("build", "cli", "definitions", "progress")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("dagster_project")}


def test_lib_imports_neither_definitions_nor_entry_points():
    upward = ("dagster_project.defs", *(f"dagster_project.{m}" for m in ENTRY_POINTS))
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            m for m in imported_modules(path) if m.startswith(upward)
        )
        for path in (PACKAGE / "lib").rglob("*.py")
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}


def test_definitions_do_not_import_the_entry_points():
    upward = tuple(f"dagster_project.{m}" for m in ENTRY_POINTS)
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            m for m in imported_modules(path) if m.startswith(upward)
        )
        for path in (PACKAGE / "defs").rglob("*.py")
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}


def test_the_top_level_holds_only_the_entry_points():
    modules = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__"}
    assert modules == set(ENTRY_POINTS)
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith("_")} == {
        "defs",
        "lib",
    }


def test_the_sample_market_is_self_contained():
    """``lib/sources/sample`` reaches the rest of the project only through the source
    interface, the symbol rules, the raw schemas, the settings and the calendar."""
    allowed = (
        "dagster_project.lib.sources.sample",
        "dagster_project.lib.sources.base",
        "dagster_project.lib.sources.symbols",
        "dagster_project.lib.warehouse.schemas",
        "dagster_project.lib.settings",
        "dagster_project.lib.calendar",
    )
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            m for m in imported_modules(path) if not m.startswith(allowed)
        )
        for path in (PACKAGE / "lib" / "sources" / "sample").rglob("*.py")
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}


def test_definition_domains_do_not_import_each_other():
    """``defs/<domain>/`` modules share only ``defs/resources.py`` and ``lib/``: what two
    domains both need belongs in ``lib/``, so a domain can be read (and moved) alone."""
    offenders = {}
    for domain in (p for p in (PACKAGE / "defs").iterdir() if p.is_dir() and p.name[0] != "_"):
        own = f"dagster_project.defs.{domain.name}"
        for path in domain.rglob("*.py"):
            sideways = sorted(
                m
                for m in imported_modules(path)
                if m.startswith("dagster_project.defs.")
                and not m.startswith((own, "dagster_project.defs.resources"))
            )
            if sideways:
                offenders[str(path.relative_to(PACKAGE))] = sideways
    assert offenders == {}
