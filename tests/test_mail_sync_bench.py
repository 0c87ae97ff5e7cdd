"""The mail sync benchmark at a tiny size, so it cannot rot: it runs, and its JSON has
every figure. The real run (`python tests/perf/bench_mail.py`, 50,000 messages) takes
minutes and is not part of the tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent / "perf" / "bench_mail.py"
FIGURES = [
    "first_sync_maildir",
    "nothing_new_maildir",
    "command_nothing_new_maildir",
    "first_sync_mbox",
    "nothing_new_mbox",
    "command_nothing_new_mbox",
]


@pytest.mark.slow
def test_the_mail_benchmark_runs_at_a_tiny_size(tmp_path):
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRUSTDESK_", "PYTEST_"))}
    env["TMPDIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, str(BENCH), "--messages", "60", "--clients", "4", "--repeat", "1",
         "--json", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(out.read_text())
    assert list(report["figures"]) == FIGURES
    for name, figure in report["figures"].items():
        assert figure["samples"] >= 1 and figure["median"] >= 0, name
    # A third of the messages are from clients and a third to them, less the lists.
    assert report["runs"]["maildir"]["read"] == report["runs"]["mbox"]["read"] == 60
    assert report["runs"]["maildir"]["logged"] == report["runs"]["mbox"]["logged"] == 38
    assert [t["name"] for t in report["targets"]] == [
        "nothing new, Maildir (s)",
        "nothing new, mbox (s)",
        "whole command, nothing new, Maildir (s)",
        "whole command, nothing new, mbox (s)",
    ]
    assert report["unmet"] == [t["name"] for t in report["targets"] if not t["met"]]
    last = result.stdout.strip().splitlines()[-1]
    assert last == "all targets met" or last.startswith("unmet: ")
    assert not list(tmp_path.glob("trustdesk-bench-mail-*"))  # cleaned up
