"""An installed wheel works on its own: the console script, the assets, the demo."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def sh(*args, **kw):
    result = subprocess.run(args, capture_output=True, timeout=300, **kw)
    assert result.returncode == 0, (args, result.stdout.decode(), result.stderr.decode())
    return result.stdout.decode()


@pytest.mark.slow
def test_the_wheel_installs_and_runs_from_a_fresh_venv(tmp_path):
    # Build from a copy, so the build leaves nothing behind in the working tree.
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*cache*", ".hypothesis"
        ),
    )
    wheels = tmp_path / "wheels"
    sh(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--quiet",
        "-w",
        str(wheels),
        str(source),
    )
    (wheel,) = wheels.glob("trustdesk-*.whl")

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    # Reuse the dependencies already installed here instead of downloading them again.
    # A plain path line in a .pth file does not run that folder's own .pth files, so an
    # editable copy of trustdesk there stays invisible to the new venv.
    purelib = sh(str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    deps = [p for p in site.getsitepackages() if os.path.isdir(p)]
    Path(purelib.strip(), "zz_outer_deps.pth").write_text("\n".join(deps) + "\n")
    sh(str(py), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel))

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRUSTDESK_", "PYTHON"))}
    env.update(TRUSTDESK_HOME=str(tmp_path / "home"), NO_COLOR="1")
    where = sh(
        str(py),
        "-c",
        "import trustdesk, trustdesk.tui.app, importlib.resources as r;"
        "print(trustdesk.__file__);"
        "print((r.files('trustdesk.assets') / 'trustdesk.tcss').is_file());"
        "print(sorted(p.name for p in (r.files('trustdesk.assets') / 'programs').iterdir()))",
        cwd=work,
        env=env,
    )
    assert str(env_dir) in where.splitlines()[0], "trustdesk came from outside the wheel"
    assert "leadership.toml" in where
    assert where.splitlines()[1] == "True", "the stylesheet is missing from the wheel"

    script = env_dir / "bin" / "trustdesk"
    assert sh(str(script), "--version", cwd=work, env=env).startswith("trustdesk 0.")
    out = sh(str(script), "demo", "--no-tui", "--today", "2026-03-16", cwd=work, env=env)
    assert "Overdue promises:" in out
    assert (tmp_path / "home" / "demo.sqlite3").exists()


def test_every_package_in_the_tree_is_listed_for_the_wheel():
    """A package missing from pyproject.toml would be missing from an installed copy."""
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    on_disk = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "trustdesk").rglob("__init__.py")
    }
    assert on_disk - {"trustdesk.store.migrations"} <= listed
    assert "trustdesk.store.migrations" in listed and "trustdesk.assets" in listed
