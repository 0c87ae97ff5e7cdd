"""The layers stay apart: the core never pulls in Textual, and importing does nothing."""

from __future__ import annotations

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
