"""The layers stay apart: the core never pulls in Textual, and importing does nothing."""

from __future__ import annotations

import ast
import os
import pkgutil
import subprocess
import sys

import pytest

import trustdesk

CORE_PACKAGES = ("trustdesk.store", "trustdesk.trust", "trustdesk.vault")
CORE_MODULES = (
    "trustdesk.config",
    "trustdesk.literal",
    "trustdesk.demo",
    "trustdesk.importer",
    "trustdesk.exporter",
    "trustdesk.ics",
    "trustdesk.asking",
    "trustdesk.sync",
    "trustdesk.contact_files",
    "trustdesk.mail_send",
    "trustdesk.prompt_mail",
    "trustdesk.mail_sync",
    "trustdesk.calendar_sync",
    "trustdesk.cli",
)


def core_modules() -> list[str]:
    names = list(CORE_MODULES)
    for package in CORE_PACKAGES:
        try:
            module = __import__(package, fromlist=["__path__"])
        except ModuleNotFoundError:
            continue  # a layer that does not exist yet
        names.append(package)
        for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}."):
            if ".migrations" not in info.name:
                names.append(info.name)
    return names


@pytest.mark.parametrize("module", core_modules())
def test_core_module_imports_without_textual_and_without_side_effects(module, tmp_path):
    home = tmp_path / "home"
    code = (
        "import sys, os\n"
        f"import {module}\n"
        "leaked = sorted(m for m in sys.modules if m.split('.')[0] == 'textual')\n"
        "assert not leaked, leaked\n"
        "home = os.environ['TRUSTDESK_HOME']\n"
        "assert not os.path.exists(home), 'importing created ' + home\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTDESK_")}
    env["TRUSTDESK_HOME"] = str(home)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, env=env, cwd=tmp_path, timeout=60
    )
    assert result.returncode == 0, result.stderr.decode()


def test_the_list_of_core_modules_is_not_empty():
    modules = core_modules()
    assert "trustdesk.trust.promises" in modules and "trustdesk.store.models" in modules
    assert trustdesk.__version__


# --- import contracts: read from the source, so an import inside a function counts too ---

PACKAGE_ROOT = os.path.dirname(trustdesk.__file__)


def module_files(package: str) -> dict[str, str]:
    """Every module of `package` (a dotted name under trustdesk) and its source file."""
    base = os.path.join(PACKAGE_ROOT, *package.split(".")[1:])
    found = {}
    for folder, _, names in os.walk(base):
        for name in names:
            if name.endswith(".py"):
                rel = os.path.relpath(os.path.join(folder, name), PACKAGE_ROOT)[:-3]
                parts = ["trustdesk", *rel.split(os.sep)]
                if parts[-1] == "__init__":
                    parts.pop()
                found[".".join(parts)] = os.path.join(folder, name)
    return found


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_names(module: str, path: str) -> set[str]:
    """Modules that running `module` may import: at the top or in a function, not for types."""
    with open(path, encoding="utf-8") as fh:
        tree = ast.parse(fh.read(), path)
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            names.add(source)
            # `from trustdesk.tui import flows` imports the module trustdesk.tui.flows.
            names.update(f"{source}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names


def _reaches(names: set[str], forbidden: str) -> list[str]:
    return sorted(n for n in names if n == forbidden or n.startswith(forbidden + "."))


@pytest.mark.parametrize("forbidden", ["peewee", "playhouse", "trustdesk.store.models"])
def test_the_tui_never_reaches_past_the_store(forbidden):
    """Screens and flows get dataclasses from `trust` and errors from `store`, never rows."""
    offenders = {
        module: _reaches(imported_names(module, path), forbidden)
        for module, path in module_files("trustdesk.tui").items()
    }
    assert {m: n for m, n in offenders.items() if n} == {}


@pytest.mark.parametrize("package", ["trustdesk.trust", "trustdesk.store", "trustdesk.vault"])
def test_the_core_never_imports_the_tui_or_the_cli(package):
    offenders = {}
    for module, path in module_files(package).items():
        names = imported_names(module, path)
        bad = _reaches(names, "trustdesk.tui") + _reaches(names, "trustdesk.cli")
        bad += _reaches(names, "textual")
        if bad:
            offenders[module] = bad
    assert offenders == {}


def test_no_import_cycle_inside_the_tui():
    """A module of the tui never needs, however indirectly, a module that needs it."""
    modules = module_files("trustdesk.tui")
    graph = {
        module: {n for n in imported_names(module, path) if n in modules and n != module}
        for module, path in modules.items()
    }
    # A package's __init__ runs before any of its modules: a module importing from its own
    # package is not a cycle unless the __init__ imports that module back.
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append(stack[stack.index(target) :] + [target])
            elif target not in state:
                walk(target)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module)
    assert cycles == [], " ; ".join(" -> ".join(c) for c in cycles)


def test_the_contracts_see_imports():
    """The contracts above would notice a forbidden import, and one inside a function."""
    modules = module_files("trustdesk.tui")
    assert "trustdesk.tui.app" in modules
    names = imported_names("trustdesk.cli", os.path.join(PACKAGE_ROOT, "cli", "__init__.py"))
    assert "trustdesk.tui.app" in names  # imported inside a function, to open the TUI
