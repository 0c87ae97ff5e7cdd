#!/usr/bin/env python
"""How trustdesk holds up on a 10,000-client practice (and 100,000), against 50 clients.

    python tests/perf/bench.py [--json FILE] [--small N] [--large N] [--xl N] [--repeat K]
                               [--gc-freeze]

Builds (once, cached by seed and size under $TMPDIR/trustdesk-bench) a small practice S
(50 clients, a year of history), a large one L (10,000 clients, 1,000,000 touches,
100,000 commitments, 200,000 sealed notes, three years), with --xl N an XL one (N clients
with L's history per client: 100,000 gives 10,000,000 touches, 1,000,000 commitments and
2,000,000 notes) and an empty one with only a coach, then measures, each repeated K times
(median and p95):

- first paint: TrustdeskApp headless (run_test, 120x40) from construction until the
  clients table has its total and the summary is drawn, and the screen has repainted;
  for S, L, XL, the empty practice (the floor) and a naive app that loads every client of
  the largest practice into a DataTable (tests/perf/naive_app.py);
- filter keystrokes (the first of the process, cold, apart from the steady ones, with
  the full garbage collections that ran during each), cursor down, page down and opening
  a client workspace, at S, L and XL;
- `trustdesk report --json` from exec to exit, and `trustdesk` on a real pseudo-terminal
  from exec until its first full frame is written;
- resident memory after first paint (VmRSS) and at peak (VmHWM) of the app process;
- note search over every note of L against the honest floor (reading the same rows plus
  a bare AES-GCM loop over the same ciphertexts), and the note search screen from Enter
  to the first hit shown;
- bytes written to a real pseudo-terminal (120x40) for one cursor move and one page down;
- the time demo.py takes to build L and XL.

Every app measurement runs in its own child process (this file with --child), so the
practices never share a heap. Keys are posted to the app as events and the clock stops
when the condition holds and the screen has refreshed (Screen.wait_for_refresh), not
after Pilot's idle waits, which alone take 20 ms or more. Targets are ratios measured in
the same run (see "targets" in the JSON; those of a practice not measured are left out).
The exit code is 0 when measuring worked, met or not.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TODAY = dt.date(2026, 3, 16)  # a Monday; the same day as the tests
SEED = 7
SIZE = (120, 40)
NEEDLE = "manager"  # a word some demo notes contain
INTERACTIONS_PER_CHILD = 3
TIMEOUT = 300.0

# --- what the JSON holds -----------------------------------------------------------------

FIGURES = {
    # name: (unit, what)
    "first_paint_empty": ("ms", "first paint, empty practice (the floor)"),
    "first_paint_S": ("ms", "first paint, S"),
    "first_paint_L": ("ms", "first paint, L"),
    "first_paint_XL": ("ms", "first paint, XL"),
    "first_paint_naive_L": ("ms", "first paint, naive DataTable app on L"),
    "first_paint_naive_XL": ("ms", "first paint, naive DataTable app on XL"),
    "all_panes_S": ("ms", "all three panes loaded, S"),
    "all_panes_L": ("ms", "all three panes loaded, L"),
    "all_panes_XL": ("ms", "all three panes loaded, XL"),
    "filter_keystroke_S": ("ms", "filter keystroke (every one), S"),
    "filter_keystroke_L": ("ms", "filter keystroke (every one), L"),
    "filter_keystroke_XL": ("ms", "filter keystroke (every one), XL"),
    "filter_first_S": ("ms", "first (cold) filter keystroke, S"),
    "filter_first_L": ("ms", "first (cold) filter keystroke, L"),
    "filter_first_XL": ("ms", "first (cold) filter keystroke, XL"),
    "filter_steady_S": ("ms", "steady filter keystrokes, S"),
    "filter_steady_L": ("ms", "steady filter keystrokes, L"),
    "filter_steady_XL": ("ms", "steady filter keystrokes, XL"),
    "filter_full_gc_L": ("n", "full (gen 2) collections per keystroke, L"),
    "filter_full_gc_XL": ("n", "full (gen 2) collections per keystroke, XL"),
    "cursor_down_S": ("ms", "cursor down, S"),
    "cursor_down_L": ("ms", "cursor down, L"),
    "cursor_down_XL": ("ms", "cursor down, XL"),
    "page_down_S": ("ms", "page down, S"),
    "page_down_L": ("ms", "page down, L"),
    "page_down_XL": ("ms", "page down, XL"),
    "open_workspace_S": ("ms", "open client workspace, S"),
    "open_workspace_L": ("ms", "open client workspace, L"),
    "open_workspace_XL": ("ms", "open client workspace, XL"),
    "report_S": ("ms", "trustdesk report --json, exec to exit, S"),
    "report_L": ("ms", "trustdesk report --json, exec to exit, L"),
    "report_XL": ("ms", "trustdesk report --json, exec to exit, XL"),
    "exec_to_paint_S": ("ms", "trustdesk on a terminal, exec to first frame, S"),
    "exec_to_paint_L": ("ms", "trustdesk on a terminal, exec to first frame, L"),
    "exec_to_paint_XL": ("ms", "trustdesk on a terminal, exec to first frame, XL"),
    "rss_S": ("MiB", "resident memory after first paint, S"),
    "rss_L": ("MiB", "resident memory after first paint, L"),
    "rss_XL": ("MiB", "resident memory after first paint, XL"),
    "peak_rss_S": ("MiB", "peak resident memory of the app, S"),
    "peak_rss_L": ("MiB", "peak resident memory of the app, L"),
    "peak_rss_XL": ("MiB", "peak resident memory of the app, XL"),
    "note_search_L": ("ms", "search_notes over every note of L"),
    "note_floor_L": ("ms", "the floor: reading the same rows + bare decrypt"),
    "bare_decrypt_L": ("ms", "bare AES-GCM loop over the same ciphertexts"),
    "note_read_L": ("ms", "reading the same rows search reads, nothing opened"),
    "note_first_hit_L": ("ms", "note search screen: Enter to first hit shown, L"),
    "note_all_hits_L": ("ms", "note search screen: Enter to search ended, L"),
    "pty_idle_bytes_L": ("B", "bytes to the terminal in 1 s idle, L"),
    "pty_cursor_bytes_L": ("B", "bytes to the terminal, one cursor move, L"),
    "pty_page_down_bytes_L": ("B", "bytes to the terminal, one page down, L"),
    "build_L": ("s", "building L with demo.py"),
    "build_XL": ("s", "building XL with demo.py"),
}

# name, numerator, denominator (None: the numerator itself, at p95 when noted), op, limit.
# A target whose figures were not measured in a run (XL without --xl) is left out.
TARGETS = (
    ("first paint L / S", "first_paint_L", "first_paint_S", "<=", 1.5),
    ("first paint L / empty app", "first_paint_L", "first_paint_empty", "<=", 2.0),
    ("first paint XL / empty app", "first_paint_XL", "first_paint_empty", "<=", 2.0),
    ("naive DataTable / first paint L", "first_paint_naive_L", "first_paint_L", ">=", 10.0),
    ("naive DataTable / first paint XL", "first_paint_naive_XL", "first_paint_XL", ">=", 50.0),
    ("all panes XL / S", "all_panes_XL", "all_panes_S", "<=", 2.0),
    ("first filter keystroke L / S", "filter_first_L", "filter_first_S", "<=", 2.0),
    ("steady filter keystroke L / S", "filter_steady_L", "filter_steady_S", "<=", 1.2),
    ("filter keystroke p95 at L (ms)", "filter_keystroke_L:p95", None, "<=", 50.0),
    ("first filter keystroke XL / S", "filter_first_XL", "filter_first_S", "<=", 2.0),
    ("steady filter keystroke XL / S", "filter_steady_XL", "filter_steady_S", "<=", 1.2),
    ("filter keystroke p95 at XL (ms)", "filter_keystroke_XL:p95", None, "<=", 50.0),
    ("cursor down L / S", "cursor_down_L", "cursor_down_S", "<=", 1.5),
    ("page down L / S", "page_down_L", "page_down_S", "<=", 1.5),
    ("open workspace L / S", "open_workspace_L", "open_workspace_S", "<=", 1.5),
    ("report L / S", "report_L", "report_S", "<=", 3.0),
    ("report XL / S", "report_XL", "report_S", "<=", 3.0),
    ("peak memory L / S", "peak_rss_L", "peak_rss_S", "<=", 1.5),
    ("peak memory XL / S", "peak_rss_XL", "peak_rss_S", "<=", 1.5),
    ("peak memory at L (MiB)", "peak_rss_L", None, "<=", 100.0),
    ("note search / (rows + bare decrypt)", "note_search_L", "note_floor_L", "<=", 1.5),
    ("first note hit on screen at L (ms)", "note_first_hit_L", None, "<=", 100.0),
    ("one cursor move (bytes)", "pty_cursor_bytes_L:max", None, "<=", 2048.0),
    ("build L (s)", "build_L", None, "<=", 180.0),
    ("build XL (s)", "build_XL", None, "<=", 300.0),
)
TARGET_NAMES = tuple(t[0] for t in TARGETS)


# --- the practices -----------------------------------------------------------------------


@dataclass(frozen=True)
class Practice:
    label: str
    clients: int  # 0: the empty practice, a coach and nothing else
    touches: int | None = None
    commitments: int | None = None
    notes: int | None = None
    history_days: int = 365

    @property
    def key(self) -> str:
        if not self.clients:
            return "empty"
        parts = [f"c{self.clients}"]
        for letter, value in (("t", self.touches), ("p", self.commitments), ("n", self.notes)):
            if value is not None:
                parts.append(f"{letter}{value}")
        parts.append(f"h{self.history_days}")
        return "-".join(parts)


def history(label: str, clients: int) -> Practice:
    """A practice with three years of history: per client 100 touches, 10 promises, 20 notes."""
    return Practice(
        label,
        clients,
        touches=100 * clients,
        commitments=10 * clients,
        notes=20 * clients,
        history_days=3 * 365,
    )


def practices(small: int, large: int, xl: int = 0) -> dict[str, Practice]:
    kinds = {"empty": Practice("empty", 0), "S": Practice("S", small), "L": history("L", large)}
    if xl:
        kinds["XL"] = history("XL", xl)
    return kinds


def source_stamp() -> str:
    """What the cached files depend on: rebuild when the demo or the schema changes."""
    digest = hashlib.sha256()
    pkg = ROOT / "trustdesk"
    files = [pkg / "demo.py", pkg / "store" / "models.py", ROOT / "assets" / "demo.toml"]
    files += sorted((pkg / "store" / "migrations").glob("*.py"))
    for path in files:
        if path.exists():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def ensure_practice(cache: Path, practice: Practice, env: dict, rebuild: bool) -> dict:
    """The practice's database, built in a child process unless a current copy is cached."""
    folder = private_dir(cache / f"{SEED}-{practice.key}")
    db_path = folder / "demo.sqlite3"
    meta_path = folder / "meta.json"
    stamp = source_stamp()
    if not rebuild and db_path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("source") == stamp:
            meta["cached"] = True
            meta["db"] = str(db_path)
            return meta
    for leftover in folder.iterdir():
        if leftover.is_file():
            leftover.unlink()
    say(f"building {practice.label} ({practice.key}) in {folder}")
    out = folder / "build.json"
    child(
        [
            "build",
            "--db",
            str(db_path),
            "--out",
            str(out),
            "--practice",
            json.dumps(asdict(practice)),
        ],
        env,
    )
    meta = json.loads(out.read_text())
    out.unlink()
    meta["source"] = stamp
    meta_path.write_text(json.dumps(meta, indent=2))
    meta["cached"] = False
    meta["db"] = str(db_path)
    return meta


# --- running children ---------------------------------------------------------------------


def say(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def as_installed(env: dict) -> dict:
    """Children run as an installed trustdesk does: from compiled bytecode.

    An environment that sets PYTHONDONTWRITEBYTECODE would have every child compile
    trustdesk's source again (about 150 ms a process here), which no coach's process
    does; the package is compiled once, here, and children may use and write the cache.
    """
    import compileall

    compileall.compile_dir(str(ROOT / "trustdesk"), quiet=1)
    env = dict(env)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def child_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRUSTDESK_", "PYTEST_"))}
    env = as_installed(env)
    env.update(
        TRUSTDESK_HOME=str(home),
        TRUSTDESK_TODAY=TODAY.isoformat(),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )
    env.pop("NO_COLOR", None)
    return env


def child(args: list[str], env: dict, timeout: float = TIMEOUT * 3) -> None:
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        start_new_session=True,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        raise SystemExit(f"bench: child {args[0]} failed with exit code {result.returncode}")


def run_child_json(args: list[str], env: dict, scratch: Path) -> dict:
    out = scratch / f"child-{os.getpid()}-{time.monotonic_ns()}.json"
    child([*args, "--out", str(out)], env)
    data = json.loads(out.read_text())
    out.unlink()
    return data


# --- inside a child: building ---------------------------------------------------------------


def child_build(ns: argparse.Namespace) -> None:
    os.umask(0o077)
    from trustdesk.store import ensure_coach, open_database

    practice = Practice(**json.loads(ns.practice))
    path = Path(ns.db)
    started = time.perf_counter()
    if not practice.clients:
        database = open_database(path, create=True)
        ensure_coach("Bench Coach")
        database.close()
        summary = {"clients": 0}
    else:
        from trustdesk.demo import DemoSize, build_demo

        size = DemoSize(
            clients=practice.clients,
            touches=practice.touches,
            commitments=practice.commitments,
            notes=practice.notes,
            history_days=practice.history_days,
        )
        summary = asdict(build_demo(path, seed=SEED, today=TODAY, size=size))
    seconds = time.perf_counter() - started
    Path(ns.out).write_text(
        json.dumps({"build_seconds": seconds, "summary": summary, "practice": asdict(practice)})
    )


# --- inside a child: the app ----------------------------------------------------------------


def vm_rss_kib() -> int:
    """Resident set of this process now (0 where /proc is not there)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class FullCollections:
    """Counts Python's full (generation 2) garbage collections, through gc.callbacks."""

    def __init__(self) -> None:
        import gc

        self.count = 0
        self.seconds = 0.0
        self._started = 0.0
        gc.callbacks.append(self._seen)

    def _seen(self, phase: str, info: dict) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self.count += 1
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started


FULL_GC: FullCollections | None = None
FILTER_STEADY = 6  # steady filter keystrokes after the first (cold) one, per child


def vm_hwm_kib() -> int:
    """Peak resident set of this process, from the kernel (falls back to getrusage)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


async def until(condition, timeout: float = TIMEOUT) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app never reached the state the bench waits for")
        await asyncio.sleep(0.001)


async def refreshed(app) -> None:
    """Wait until every pending message is handled and the screen has repainted."""
    await app.screen.wait_for_refresh()


async def settled(app) -> None:
    for _ in range(200):
        await app.workers.wait_for_complete()
        await refreshed(app)
        if all(worker.is_finished for worker in app.workers):
            return
    raise TimeoutError("workers never settled")


KEY_CHARS = {"slash": "/", "enter": "\r", "escape": "\x1b", "backspace": "\x08"}


def press(app, key: str) -> None:
    """Post one key to the app, as the driver does, without Pilot's idle waits."""
    from textual import events

    char = KEY_CHARS.get(key, key if len(key) == 1 else None)
    app.post_message(events.Key(key, char))


async def timed(app, key: str, condition) -> float:
    started = time.perf_counter()
    press(app, key)
    await until(condition)
    await refreshed(app)
    return (time.perf_counter() - started) * 1000


def pick_letter(names: list[str]) -> tuple[str, int]:
    """A letter that narrows the list without emptying it, preferring about half the names."""
    from trustdesk.store.models import name_key

    keys = [name_key(n) for n in names]
    total = len(keys)
    best = None
    for letter in "abcdefghijklmnopqrstuvwxyz":
        count = sum(letter in k for k in keys)
        if 0 < count < total:
            score = abs(count - total / 2)
            if best is None or score < best[0]:
                best = (score, letter, count)
    if best is None:
        return "9", 0  # every name has every letter it has: narrow to nothing instead
    return best[1], best[2]


async def drive_dashboard(
    database, coach, interactions: int, result: dict, freeze: bool = False
) -> None:
    from trustdesk.config import Settings
    from trustdesk.store.models import Client
    from trustdesk.tui.app import TrustdeskApp
    from trustdesk.tui.screens.client import ClientScreen
    from trustdesk.tui.screens.dashboard import DashboardScreen
    from trustdesk.tui.widgets.virtual_table import VirtualTable

    started = time.perf_counter()
    app = TrustdeskApp(database, coach, settings=Settings())
    async with app.run_test(size=SIZE) as _pilot:

        def table(name: str):
            screen = app.screen
            if not isinstance(screen, DashboardScreen):
                return None
            return screen.query_one(f"#{name}", VirtualTable)

        def painted() -> bool:
            clients = table("clients")
            if clients is None or clients.total is None:
                return False
            # The summary strip names the overdue count only once its numbers are in.
            return "overdue" in str(app.screen.query_one("#summary").render())

        await until(painted)
        await refreshed(app)
        result["first_paint"] = [(time.perf_counter() - started) * 1000]
        result["rss_kib"] = vm_rss_kib()
        result["full_gc_first_paint"] = FULL_GC.count if FULL_GC else 0
        await until(lambda: all(table(n).total is not None for n in ("overdue", "cadence")))
        await refreshed(app)
        result["all_panes"] = [(time.perf_counter() - started) * 1000]
        await settled(app)
        if freeze:
            import gc

            gc.freeze()  # what the app would do once started: its objects out of the GC's way

        clients = table("clients")
        total = clients.total
        result["clients"] = total
        if not interactions or total < 2:
            return

        async def home() -> None:
            if app.focused is not clients:
                clients.focus()
            if clients.cursor != 0:
                press(app, "home")
                await until(lambda: clients.cursor == 0)
            await refreshed(app)

        for name in ("cursor_down", "page_down", "open_workspace", "filter_keystroke"):
            result[name] = []
        result["filter_full_gc"] = []
        for _ in range(interactions):
            await home()
            result["cursor_down"].append(
                await timed(
                    app, "down", lambda: clients.cursor == 1 and clients.row_at(1) is not None
                )
            )
        for _ in range(interactions):
            await home()
            result["page_down"].append(
                await timed(
                    app,
                    "pagedown",
                    lambda: clients.cursor > 0 and clients.row_at(clients.cursor) is not None,
                )
            )
        for _ in range(interactions):
            await home()
            result["open_workspace"].append(
                await timed(
                    app,
                    "enter",
                    lambda: (
                        isinstance(app.screen, ClientScreen) and app.screen.workspace is not None
                    ),
                )
            )
            press(app, "escape")
            await until(lambda: isinstance(app.screen, DashboardScreen))
            await settled(app)

        names = [n for (n,) in Client.select(Client.name).where(Client.coach == coach).tuples()]
        letter, expected = pick_letter(names)
        result["filter_letter"] = letter
        await home()
        press(app, "slash")
        await until(lambda: getattr(app.focused, "id", None) == "client-filter")
        await refreshed(app)
        # The first keystroke of the process meets whatever is cold; the rest are steady.
        for _ in range(1 + FILTER_STEADY):
            collections = FULL_GC.count if FULL_GC else 0
            result["filter_keystroke"].append(
                await timed(
                    app,
                    letter,
                    lambda: (
                        clients.total == expected
                        and (expected == 0 or clients.row_at(0) is not None)
                    ),
                )
            )
            result["filter_full_gc"].append((FULL_GC.count if FULL_GC else 0) - collections)
            press(app, "backspace")
            await until(lambda: clients.total == total and clients.row_at(0) is not None)
            await settled(app)
        result["filter_first"] = result["filter_keystroke"][:1]
        result["filter_steady"] = result["filter_keystroke"][1:]


async def drive_naive(database, coach, result: dict) -> None:
    sys.path.insert(0, str(HERE))
    from naive_app import NaiveApp
    from textual.widgets import DataTable

    started = time.perf_counter()
    app = NaiveApp(database, coach)
    async with app.run_test(size=SIZE):
        table = app.query_one("#clients", DataTable)
        await until(lambda: app.loaded and table.row_count == app.expected_rows)
        await refreshed(app)
        result["first_paint"] = [(time.perf_counter() - started) * 1000]
        result["clients"] = table.row_count


def child_app(ns: argparse.Namespace) -> None:
    os.umask(0o077)
    # Imported before the clock starts: Python's import time is not the dashboard's work.
    import textual.widgets  # noqa: F401

    import trustdesk.tui.app  # noqa: F401
    import trustdesk.tui.screens.client  # noqa: F401
    import trustdesk.tui.screens.dashboard  # noqa: F401
    from trustdesk import config
    from trustdesk.store import current_coach, open_database

    global FULL_GC
    FULL_GC = FullCollections()
    config.set_today(TODAY)
    database = open_database(ns.db)
    coach = current_coach()
    result: dict = {}
    if ns.kind == "naive":
        asyncio.run(drive_naive(database, coach, result))
    elif ns.kind == "notes":
        asyncio.run(drive_note_search(database, coach, ns.interactions, result))
    else:
        asyncio.run(drive_dashboard(database, coach, ns.interactions, result, ns.gc_freeze))
    database.close()
    result["peak_rss_kib"] = vm_hwm_kib()
    result["full_gc"] = FULL_GC.count
    result["full_gc_seconds"] = FULL_GC.seconds
    Path(ns.out).write_text(json.dumps(result))


async def drive_note_search(database, coach, searches: int, result: dict) -> None:
    """The note search screen on the practice: Enter to the first hit on screen, and to the end."""
    from textual.widgets import DataTable

    from trustdesk.config import Settings
    from trustdesk.tui.app import TrustdeskApp
    from trustdesk.tui.screens.note_search import NoteSearchScreen

    app = TrustdeskApp(database, coach, settings=Settings())
    if not app.vault.unlock_with_passphrase("demo").unlocked:
        raise SystemExit("the demo notes did not open")
    async with app.run_test(size=SIZE):
        await settled(app)
        screen = NoteSearchScreen()
        await app.push_screen(screen)
        await settled(app)
        table = screen.query_one(DataTable)
        result["first_hit"], result["all_hits"] = [], []
        for _ in range(max(1, searches)):
            started = time.perf_counter()
            screen.search(NEEDLE)
            await until(lambda: table.row_count > 0)
            await refreshed(app)
            result["first_hit"].append((time.perf_counter() - started) * 1000)
            await until(lambda: screen.searching is None)
            await refreshed(app)
            result["all_hits"].append((time.perf_counter() - started) * 1000)
            result["hits_shown"] = table.row_count
            await settled(app)


# --- inside a child: note search ---------------------------------------------------------------


def child_search(ns: argparse.Namespace) -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from trustdesk import config
    from trustdesk.store import Client, Note, current_coach, open_database
    from trustdesk.trust.notes import search_notes
    from trustdesk.vault import Vault
    from trustdesk.vault.sealing import HEADER_BYTES, KEY_ID_BYTES, associated_data, key_id_of
    from trustdesk.vault.vault import NOTE_COLUMN, NOTE_TABLE, note_bound

    config.set_today(TODAY)
    database = open_database(ns.db)
    coach = current_coach()
    vault = Vault(coach)
    status = vault.unlock_with_passphrase("demo")
    if not status.unlocked:
        raise SystemExit(f"the demo notes did not open: {status.describe()}")
    # The floor: the same ciphertexts, already in memory with their associated data,
    # decrypted in a loop and nothing else.
    items = []
    key = None
    rows = (
        Note.select(Note.id, Note.body_sealed, Client.uid, Note.kind, Note.written_on)
        .join(Client)
        .where(Note.coach == coach)
        .tuples()
    )
    for nid, sealed, uid, kind, written_on in rows:
        sealed = bytes(sealed)
        key_id = key_id_of(sealed)
        key = vault._keys[key_id]  # the unlocked data key; the vault has no public getter
        bound = note_bound(uid, kind, written_on)
        aad = associated_data(NOTE_TABLE, nid, NOTE_COLUMN, key_id, sealed[0], bound)
        items.append((sealed[1 + KEY_ID_BYTES : HEADER_BYTES], sealed[HEADER_BYTES:], aad))
    # Not a target: what reading the rows alone costs, which the floor above leaves out.
    scan_sql, scan_params = (
        Note.select(Note.id, Note.body_sealed, Note.client, Note.kind, Note.written_on)
        .where(Note.coach == coach)
        .sql()
    )
    search, floor, read, both, hits = [], [], [], [], 0
    for _ in range(ns.repeat):
        started = time.perf_counter()
        for _row in database.execute_sql(scan_sql, scan_params):
            pass
        read.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        aes = AESGCM(key)
        for nonce, body, aad in items:
            aes.decrypt(nonce, body, aad)
        floor.append((time.perf_counter() - started) * 1000)
        both.append(read[-1] + floor[-1])
        started = time.perf_counter()
        hits = len(search_notes(vault, NEEDLE))
        search.append((time.perf_counter() - started) * 1000)
    database.close()
    Path(ns.out).write_text(
        json.dumps(
            {
                "search": search,
                "floor": floor,
                "read": read,
                "both": both,
                "notes": len(items),
                "hits": hits,
            }
        )
    )


# --- the command line as a process ---------------------------------------------------------------


def time_report(db: str, env: dict, repeat: int) -> list[float]:
    command = [sys.executable, "-m", "trustdesk", "--db", db, "report", "--json"]
    samples = []
    for i in range(repeat + 1):  # the first run warms the page cache and is not counted
        started = time.perf_counter()
        result = subprocess.run(
            command, env=env, capture_output=True, timeout=TIMEOUT, start_new_session=True
        )
        elapsed = (time.perf_counter() - started) * 1000
        if result.returncode != 0:
            raise SystemExit(f"bench: report failed: {result.stderr.decode()[-2000:]}")
        json.loads(result.stdout)
        if i:
            samples.append(elapsed)
    return samples


# --- a real terminal ----------------------------------------------------------------------------


class Terminal:
    """`python -m trustdesk` on a pseudo-terminal of a fixed size, bytes counted."""

    def __init__(self, db: str, env: dict, size: tuple[int, int] = SIZE) -> None:
        import fcntl
        import struct
        import termios

        master, slave = os.openpty()
        columns, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        term_env = dict(env, TERM="xterm-256color", COLUMNS=str(columns), LINES=str(rows))

        def become_session_leader() -> None:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.master = master
        self.spawned = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "trustdesk", "--db", db],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=term_env,
            preexec_fn=become_session_leader,  # noqa: PLW1509 - single-threaded here
            close_fds=True,
        )
        os.close(slave)

    def first_frame(self, until, timeout: float) -> float:
        """Seconds from spawn until `until(buffer)` first holds for the bytes written."""
        import select

        buffer = bytearray()
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.005)
            now = time.perf_counter()
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    data = b""
                if not data:
                    raise RuntimeError(f"trustdesk ended before its first frame: {bytes(buffer)!r}")
                buffer += data
                if until(buffer):
                    return now - self.spawned
            if now - self.spawned > timeout:
                raise TimeoutError("trustdesk never drew its first frame")

    def read(self, quiet: float, timeout: float, until=None) -> bytes:
        """Bytes until `until(buffer)` holds and nothing came for `quiet` seconds."""
        import select

        buffer = bytearray()
        started = last = time.monotonic()
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.01)
            now = time.monotonic()
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    data = b""
                if not data:
                    return bytes(buffer)
                buffer += data
                last = now
            if (until is None or until(buffer)) and now - last >= quiet:
                return bytes(buffer)
            if now - started > timeout:
                raise TimeoutError(f"the terminal never went quiet ({len(buffer)} bytes so far)")

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        try:
            self.send(b"q")
            deadline = time.monotonic() + 15
            while self.process.poll() is None and time.monotonic() < deadline:
                try:
                    self.read(quiet=0.2, timeout=1)
                except TimeoutError:
                    pass
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait(timeout=15)
            os.close(self.master)


def dashboard_drawn(buffer: bytes) -> bool:
    """The dashboard's first full frame: the summary's numbers and the clients' total."""
    return b"overdue" in buffer and b"Clients (" in buffer


def exec_to_paint(db: str, env: dict) -> float:
    """`trustdesk` on a pseudo-terminal, from spawn until its first full frame is written."""
    terminal = Terminal(db, env)
    try:
        return terminal.first_frame(dashboard_drawn, TIMEOUT) * 1000
    finally:
        terminal.close()


def terminal_bytes(db: str, env: dict, repeat: int) -> dict:
    terminal = Terminal(db, env)
    try:
        terminal.read(
            quiet=1.5,
            timeout=TIMEOUT,
            until=dashboard_drawn,
        )
        idle = [len(terminal.read(quiet=1.0, timeout=5.0))]
        cursor, page = [], []
        for _ in range(repeat):
            terminal.send(b"\x1b[B")  # down
            cursor.append(len(terminal.read(quiet=0.5, timeout=30)))
        for _ in range(repeat):
            terminal.send(b"\x1b[6~")  # page down
            page.append(len(terminal.read(quiet=0.5, timeout=30)))
        return {"idle": idle, "cursor": cursor, "page": page}
    finally:
        terminal.close()


# --- putting it together ---------------------------------------------------------------------


def summarise(samples: list[float]) -> dict:
    ordered = sorted(samples)
    if len(ordered) == 1:
        p95 = ordered[0]
    else:
        p95 = statistics.quantiles(ordered, n=20, method="inclusive")[18]
    return {
        "median": round(statistics.median(ordered), 3),
        "p95": round(p95, 3),
        "max": round(ordered[-1], 3),
        "samples": len(ordered),
    }


def evaluate(figures: dict) -> list[dict]:
    targets = []
    for name, numerator, denominator, op, limit in TARGETS:
        figure, _, stat = numerator.partition(":")
        if figure not in figures or (denominator is not None and denominator not in figures):
            continue  # not measured in this run (XL without --xl)
        value = figures[figure][stat or "median"]
        if denominator is not None:
            below = figures[denominator]["median"]
            value = value / below if below else float("inf")
        met = value <= limit if op == "<=" else value >= limit
        targets.append(
            {"name": name, "value": round(value, 3), "limit": limit, "op": op, "met": bool(met)}
        )
    return targets


def machine() -> dict:
    import textual

    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "textual": getattr(textual, "__version__", "?"),
        "cpus": os.cpu_count(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_gib"] = round(int(line.split()[1]) / 2**20, 1)
                break
    except OSError:
        pass
    return info


def print_table(figures: dict, targets: list[dict], out=sys.stdout) -> None:
    print(f"{'figure':<56} {'median':>12} {'p95':>12}  n", file=out)
    for name, (unit, what) in FIGURES.items():
        if name not in figures:
            continue
        f = figures[name]
        print(
            f"{what + ' (' + unit + ')':<56} {f['median']:>12,.1f} {f['p95']:>12,.1f}  "
            f"{f['samples']}",
            file=out,
        )
    print(file=out)
    print(f"{'target':<40} {'value':>10} {'limit':>12}  met", file=out)
    for t in targets:
        limit = f"{t['op']} {t['limit']:g}"
        print(
            f"{t['name']:<40} {t['value']:>10,.2f} {limit:>12}  {'yes' if t['met'] else 'NO'}",
            file=out,
        )


def main_bench(ns: argparse.Namespace) -> int:
    os.umask(0o077)
    cache = private_dir(
        Path(ns.cache) if ns.cache else Path(tempfile.gettempdir()) / "trustdesk-bench"
    )
    if os.environ.get("TRUSTDESK_HOME"):
        home = Path(os.environ["TRUSTDESK_HOME"])
        home.mkdir(parents=True, exist_ok=True)
    else:
        home = private_dir(cache / "home")  # no settings.toml of the coach's own
    scratch = private_dir(cache / f"run-{os.getpid()}")
    env = child_env(home)
    kinds = practices(ns.small, ns.large, ns.xl)
    sized = [label for label in ("S", "L", "XL") if label in kinds]
    biggest = sized[-1]  # the naive table is compared where it means most
    repeat = ns.repeat
    try:
        meta = {label: ensure_practice(cache, p, env, ns.rebuild) for label, p in kinds.items()}
        wanted = {f"first_paint_{label}" for label in ("empty", *sized)}
        wanted.add(f"first_paint_naive_{biggest}")
        for label in sized:
            for name in (
                "all_panes", "filter_keystroke", "filter_first", "filter_steady", "cursor_down",
                "page_down", "open_workspace", "report", "exec_to_paint", "rss", "peak_rss",
            ):  # fmt: skip
                wanted.add(f"{name}_{label}")
            if label != "S":
                wanted.add(f"filter_full_gc_{label}")
        wanted |= {"note_search_L", "note_floor_L", "bare_decrypt_L", "note_read_L"}
        wanted |= {"note_first_hit_L", "note_all_hits_L"}
        wanted |= {"pty_idle_bytes_L", "pty_cursor_bytes_L", "pty_page_down_bytes_L"}
        wanted |= {f"build_{label}" for label in sized if label != "S"}
        samples: dict[str, list[float]] = {name: [] for name in FIGURES if name in wanted}
        gc_info: dict[str, dict] = {}
        freeze = ["--gc-freeze"] if ns.gc_freeze else []

        for i in range(repeat):
            say(f"app runs {i + 1}/{repeat}")
            # Interleaved, so drift on a shared machine touches every variant alike.
            for label in ("empty", *sized, "naive"):
                db = meta[biggest if label == "naive" else label]["db"]
                kind = "naive" if label == "naive" else "dashboard"
                interactions = INTERACTIONS_PER_CHILD if label in sized else 0
                data = run_child_json(
                    ["app", "--db", db, "--kind", kind, "--interactions", str(interactions)]
                    + freeze,
                    env,
                    scratch,
                )
                suffix = f"naive_{biggest}" if label == "naive" else label
                samples[f"first_paint_{suffix}"] += data["first_paint"]
                if label in sized:
                    samples[f"all_panes_{label}"] += data["all_panes"]
                    samples[f"peak_rss_{label}"].append(data["peak_rss_kib"] / 1024)
                    samples[f"rss_{label}"].append(data["rss_kib"] / 1024)
                    for name in (
                        "filter_keystroke", "filter_first", "filter_steady", "cursor_down",
                        "page_down", "open_workspace",
                    ):  # fmt: skip
                        samples[f"{name}_{label}"] += data.get(name, [])
                    if label != "S":
                        samples[f"filter_full_gc_{label}"] += data.get("filter_full_gc", [])
                    info = gc_info.setdefault(label, {"runs": 0, "first_paint": 0, "whole_run": 0})
                    info["runs"] += 1
                    info["first_paint"] += data.get("full_gc_first_paint", 0)
                    info["whole_run"] += data.get("full_gc", 0)
                    info["filter_keystrokes"] = info.get("filter_keystrokes", 0) + len(
                        data.get("filter_full_gc", [])
                    )
                    info["during_filter_keystrokes"] = info.get(
                        "during_filter_keystrokes", 0
                    ) + sum(data.get("filter_full_gc", []))

        say("trustdesk report --json and trustdesk on a terminal, from exec")
        for _ in range(repeat):
            for label in sized:
                samples[f"report_{label}"] += time_report(meta[label]["db"], env, 1)
                samples[f"exec_to_paint_{label}"].append(exec_to_paint(meta[label]["db"], env))

        say("note search")
        data = run_child_json(
            ["search", "--db", meta["L"]["db"], "--repeat", str(repeat)], env, scratch
        )
        samples["note_search_L"] = data["search"]
        samples["bare_decrypt_L"] = data["floor"]
        samples["note_read_L"] = data["read"]
        samples["note_floor_L"] = data["both"]
        search_info = {"notes": data["notes"], "hits": data["hits"], "needle": NEEDLE}
        data = run_child_json(
            ["app", "--db", meta["L"]["db"], "--kind", "notes", "--interactions", str(repeat)],
            env,
            scratch,
        )
        samples["note_first_hit_L"] = data["first_hit"]
        samples["note_all_hits_L"] = data["all_hits"]
        search_info["hits_shown"] = data.get("hits_shown")

        say("bytes to a pseudo-terminal")
        data = terminal_bytes(meta["L"]["db"], env, repeat)
        samples["pty_idle_bytes_L"] = data["idle"]
        samples["pty_cursor_bytes_L"] = data["cursor"]
        samples["pty_page_down_bytes_L"] = data["page"]
        for label in sized:
            if label != "S":
                samples[f"build_{label}"] = [meta[label]["build_seconds"]]

        missing = [name for name, values in samples.items() if not values]
        if missing:
            raise SystemExit(f"bench: nothing measured for {', '.join(missing)}")
        figures = {}
        for name, values in samples.items():
            figures[name] = summarise(values) | {"unit": FIGURES[name][0]}
        targets = evaluate(figures)
        report = {
            "command": "python tests/perf/bench.py " + " ".join(ns.argv),
            "when": dt.datetime.now().isoformat(timespec="seconds"),
            "machine": machine(),
            "today": TODAY.isoformat(),
            "seed": SEED,
            "repeat": repeat,
            "terminal": f"{SIZE[0]}x{SIZE[1]}",
            "practices": {
                label: {
                    "size": asdict(kinds[label]),
                    "rows": m.get("summary"),
                    "cached": m["cached"],
                    "build_seconds": round(m["build_seconds"], 2),
                }
                for label, m in meta.items()
            },
            "note_search": search_info,
            "full_collections": gc_info,
            "gc_freeze": bool(ns.gc_freeze),
            "figures": figures,
            "targets": targets,
            "unmet": [t["name"] for t in targets if not t["met"]],
        }
        if any(meta[label]["cached"] for label in sized if label != "S"):
            say("build times are those recorded when the cached practices were built (--rebuild)")
        print_table(figures, targets)
        unmet = report["unmet"]
        print()
        print("all targets met" if not unmet else "unmet: " + "; ".join(unmet))
        if ns.json:
            Path(ns.json).write_text(json.dumps(report, indent=2) + "\n")
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="FILE", help="write the figures and targets here")
    parser.add_argument("--small", type=int, default=50, help="clients in S (default 50)")
    parser.add_argument(
        "--large",
        type=int,
        default=10_000,
        help="clients in L (default 10,000; touches x100, commitments x10, notes x20)",
    )
    parser.add_argument(
        "--xl",
        type=int,
        default=0,
        metavar="N",
        help="also an XL practice of N clients, with the same history per client as L "
        "(100,000 gives 10,000,000 touches); the naive table is then compared there",
    )
    parser.add_argument("--repeat", type=int, default=7, help="runs of each measurement")
    parser.add_argument("--cache", metavar="DIR", help="where built practices are kept")
    parser.add_argument("--rebuild", action="store_true", help="build the practices anew")
    # Internal: one measurement in a child process.
    parser.add_argument("--child", choices=("build", "app", "search"), help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--kind", default="dashboard", help=argparse.SUPPRESS)
    parser.add_argument("--interactions", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="freeze the app's objects out of the garbage collector after start-up (gc.freeze)",
    )
    parser.add_argument("--practice", help=argparse.SUPPRESS)
    ns = parser.parse_args(argv)
    ns.argv = argv
    if ns.small < 1 or ns.large < 1 or ns.repeat < 1 or ns.xl < 0:
        parser.error("--small, --large and --repeat must be at least 1, --xl 0 or more")
    return ns


def main(argv: list[str] | None = None) -> int:
    ns = parse(sys.argv[1:] if argv is None else argv)
    if ns.child == "build":
        child_build(ns)
    elif ns.child == "app":
        child_app(ns)
    elif ns.child == "search":
        child_search(ns)
    else:
        return main_bench(ns)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
