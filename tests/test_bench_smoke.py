"""The benchmark at tiny sizes, so it cannot rot: it runs, and its JSON has every figure.

The real run (`python tests/perf/bench.py`) takes minutes and is not part of the tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent / "perf" / "bench.py"

# The targets measured without --xl, one each, in the bench's order.
TARGET_NAMES = [
    "first paint L / S",
    "first paint L / empty app",
    "naive DataTable / first paint L",
    "first filter keystroke L / S",
    "steady filter keystroke L / S",
    "filter keystroke p95 at L (ms)",
    "cursor down L / S",
    "page down L / S",
    "open workspace L / S",
    "report L / S",
    "peak memory L / S",
    "peak memory at L (MiB)",
    "note search / (rows + bare decrypt)",
    "first note hit on screen at L (ms)",
    "one cursor move (bytes)",
    "build L (s)",
]
FIGURES = [
    "first_paint_empty",
    "first_paint_S",
    "first_paint_L",
    "first_paint_naive_L",
    "all_panes_S",
    "all_panes_L",
    "filter_keystroke_S",
    "filter_keystroke_L",
    "filter_first_S",
    "filter_first_L",
    "filter_steady_S",
    "filter_steady_L",
    "filter_full_gc_L",
    "cursor_down_S",
    "cursor_down_L",
    "page_down_S",
    "page_down_L",
    "open_workspace_S",
    "open_workspace_L",
    "report_S",
    "report_L",
    "exec_to_paint_S",
    "exec_to_paint_L",
    "rss_S",
    "rss_L",
    "peak_rss_S",
    "peak_rss_L",
    "note_search_L",
    "note_floor_L",
    "bare_decrypt_L",
    "note_read_L",
    "note_first_hit_L",
    "note_all_hits_L",
    "pty_idle_bytes_L",
    "pty_cursor_bytes_L",
    "pty_page_down_bytes_L",
    "build_L",
]


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and a pty")
def test_the_benchmark_runs_at_tiny_sizes(tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRUSTDESK_", "PYTEST_"))}
    env.update(TRUSTDESK_HOME=str(home), TMPDIR=str(tmp_path))
    result = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--small",
            "5",
            "--large",
            "30",
            "--repeat",
            "1",
            "--cache",
            str(tmp_path / "cache"),
            "--json",
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    report = json.loads(out.read_text())
    assert list(report["figures"]) == FIGURES
    for name, figure in report["figures"].items():
        assert {"median", "p95", "samples", "unit"} <= set(figure), name
        assert figure["samples"] >= 1, name
        assert figure["median"] >= 0 and figure["p95"] >= figure["median"] - 1e-9, name
    assert [t["name"] for t in report["targets"]] == TARGET_NAMES
    for target in report["targets"]:
        assert set(target) >= {"name", "value", "limit", "met"}
        assert isinstance(target["met"], bool)
    assert report["unmet"] == [t["name"] for t in report["targets"] if not t["met"]]
    assert report["practices"]["S"]["rows"]["clients"] == 5
    assert report["practices"]["L"]["rows"]["clients"] == 30
    # The table went to stdout, with the verdict on the last line.
    assert "first paint" in result.stdout
    last = result.stdout.strip().splitlines()[-1]
    assert last == "all targets met" or last.startswith("unmet: ")
