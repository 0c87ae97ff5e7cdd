#!/usr/bin/env python
"""How trustdesk holds up on a 10,000-client practice, against 50 clients (issue 6).

    python tests/perf/bench.py [--json FILE] [--small N] [--large N] [--repeat K]

Builds (once, cached by seed and size under $TMPDIR/trustdesk-bench) a small practice S
(50 clients, a year of history), a large one L (10,000 clients, 1,000,000 touches,
100,000 commitments, 200,000 sealed notes, three years) and an empty one with only a
coach, then measures, each repeated K times (median and p95):

- first paint: TrustdeskApp headless (run_test, 120x40) from construction until the
  clients table has its total and the summary is drawn, and the screen has repainted;
  for S, L, the empty practice (the floor) and a naive app that loads every client of L
  into a DataTable (tests/perf/naive_app.py);
- a filter keystroke, cursor down, page down and opening a client workspace, at S and L;
- `trustdesk report --json` as a whole process, at S and L;
- peak resident memory (VmHWM) of the app process at S and at L;
- note search over every note of L against a bare AES-GCM loop over the same ciphertexts;
- bytes written to a real pseudo-terminal (120x40) for one cursor move and one page down;
- the time demo.py takes to build L.

Every app measurement runs in its own child process (this file with --child), so S and L
never share a heap. Keys are posted to the app as events and the clock stops when the
condition holds and the screen has refreshed (Screen.wait_for_refresh), not after Pilot's
idle waits, which alone take 20 ms or more. Targets are ratios measured in the same run
(see "targets" in the JSON). The exit code is 0 when measuring worked, met or not.
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
    "first_paint_naive_L": ("ms", "first paint, naive DataTable app on L"),
    "all_panes_S": ("ms", "all three panes loaded, S"),
    "all_panes_L": ("ms", "all three panes loaded, L"),
    "filter_keystroke_S": ("ms", "filter keystroke, S"),
    "filter_keystroke_L": ("ms", "filter keystroke, L"),
    "cursor_down_S": ("ms", "cursor down, S"),
    "cursor_down_L": ("ms", "cursor down, L"),
    "page_down_S": ("ms", "page down, S"),
    "page_down_L": ("ms", "page down, L"),
    "open_workspace_S": ("ms", "open client workspace, S"),
    "open_workspace_L": ("ms", "open client workspace, L"),
    "report_S": ("ms", "trustdesk report --json (process), S"),
    "report_L": ("ms", "trustdesk report --json (process), L"),
    "peak_rss_S": ("MiB", "peak resident memory of the app, S"),
    "peak_rss_L": ("MiB", "peak resident memory of the app, L"),
    "note_search_L": ("ms", "search_notes over every note of L"),
    "bare_decrypt_L": ("ms", "bare AES-GCM loop over the same ciphertexts"),
    "note_read_L": ("ms", "reading the same rows search reads, nothing opened"),
    "pty_idle_bytes_L": ("B", "bytes to the terminal in 1 s idle, L"),
    "pty_cursor_bytes_L": ("B", "bytes to the terminal, one cursor move, L"),
    "pty_page_down_bytes_L": ("B", "bytes to the terminal, one page down, L"),
    "build_L": ("s", "building L with demo.py"),
}

# name, numerator, denominator (None: the numerator itself, at p95 when noted), op, limit
TARGETS = (
    ("first paint L / S", "first_paint_L", "first_paint_S", "<=", 1.5),
    ("first paint L / empty app", "first_paint_L", "first_paint_empty", "<=", 2.0),
    ("naive DataTable / first paint L", "first_paint_naive_L", "first_paint_L", ">=", 10.0),
    ("filter keystroke L / S", "filter_keystroke_L", "filter_keystroke_S", "<=", 1.5),
    ("cursor down L / S", "cursor_down_L", "cursor_down_S", "<=", 1.5),
    ("page down L / S", "page_down_L", "page_down_S", "<=", 1.5),
    ("open workspace L / S", "open_workspace_L", "open_workspace_S", "<=", 1.5),
    ("filter keystroke p95 at L (ms)", "filter_keystroke_L:p95", None, "<=", 50.0),
    ("report L / S", "report_L", "report_S", "<=", 3.0),
    ("peak memory L / S", "peak_rss_L", "peak_rss_S", "<=", 1.5),
    ("note search / bare decrypt loop", "note_search_L", "bare_decrypt_L", "<=", 2.5),
    ("one cursor move (bytes)", "pty_cursor_bytes_L:max", None, "<=", 2048.0),
    ("build L (s)", "build_L", None, "<=", 180.0),
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


def practices(small: int, large: int) -> dict[str, Practice]:
    return {
        "empty": Practice("empty", 0),
        "S": Practice("S", small),
        "L": Practice(
            "L",
            large,
            touches=100 * large,
            commitments=10 * large,
            notes=20 * large,
            history_days=3 * 365,
        ),
    }


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


def child_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRUSTDESK_", "PYTEST_"))}
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


async def drive_dashboard(database, coach, interactions: int, result: dict) -> None:
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
        await until(lambda: all(table(n).total is not None for n in ("overdue", "cadence")))
        await refreshed(app)
        result["all_panes"] = [(time.perf_counter() - started) * 1000]
        await settled(app)

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
        for _ in range(interactions):
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
            press(app, "backspace")
            await until(lambda: clients.total == total and clients.row_at(0) is not None)
            await settled(app)


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

    config.set_today(TODAY)
    database = open_database(ns.db)
    coach = current_coach()
    result: dict = {}
    if ns.kind == "naive":
        asyncio.run(drive_naive(database, coach, result))
    else:
        asyncio.run(drive_dashboard(database, coach, ns.interactions, result))
    database.close()
    result["peak_rss_kib"] = vm_hwm_kib()
    Path(ns.out).write_text(json.dumps(result))


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
    search, floor, read, hits = [], [], [], 0
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
        started = time.perf_counter()
        hits = len(search_notes(vault, NEEDLE))
        search.append((time.perf_counter() - started) * 1000)
    database.close()
    Path(ns.out).write_text(
        json.dumps(
            {"search": search, "floor": floor, "read": read, "notes": len(items), "hits": hits}
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


def terminal_bytes(db: str, env: dict, repeat: int) -> dict:
    terminal = Terminal(db, env)
    try:
        terminal.read(
            quiet=1.5,
            timeout=TIMEOUT,
            until=lambda b: b"overdue" in b and b"Clients (" in b,
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
    print(f"{'figure':<46} {'median':>12} {'p95':>12}  n", file=out)
    for name, (unit, what) in FIGURES.items():
        f = figures[name]
        print(
            f"{what + ' (' + unit + ')':<46} {f['median']:>12,.1f} {f['p95']:>12,.1f}  "
            f"{f['samples']}",
            file=out,
        )
    print(file=out)
    print(f"{'target':<36} {'value':>10} {'limit':>12}  met", file=out)
    for t in targets:
        limit = f"{t['op']} {t['limit']:g}"
        print(
            f"{t['name']:<36} {t['value']:>10,.2f} {limit:>12}  {'yes' if t['met'] else 'NO'}",
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
    kinds = practices(ns.small, ns.large)
    repeat = ns.repeat
    try:
        meta = {label: ensure_practice(cache, p, env, ns.rebuild) for label, p in kinds.items()}
        samples: dict[str, list[float]] = {name: [] for name in FIGURES}

        for i in range(repeat):
            say(f"app runs {i + 1}/{repeat}")
            # Interleaved, so drift on a shared machine touches every variant alike.
            for label in ("empty", "S", "L", "naive"):
                db = meta["L" if label == "naive" else label]["db"]
                kind = "naive" if label == "naive" else "dashboard"
                interactions = INTERACTIONS_PER_CHILD if label in ("S", "L") else 0
                data = run_child_json(
                    ["app", "--db", db, "--kind", kind, "--interactions", str(interactions)],
                    env,
                    scratch,
                )
                suffix = "naive_L" if label == "naive" else label
                samples[f"first_paint_{suffix}"] += data["first_paint"]
                if label in ("S", "L"):
                    samples[f"all_panes_{label}"] += data["all_panes"]
                    samples[f"peak_rss_{label}"].append(data["peak_rss_kib"] / 1024)
                    for name in ("filter_keystroke", "cursor_down", "page_down", "open_workspace"):
                        samples[f"{name}_{label}"] += data.get(name, [])

        say("trustdesk report --json")
        for _ in range(repeat):
            for label in ("S", "L"):
                samples[f"report_{label}"] += time_report(meta[label]["db"], env, 1)

        say("note search")
        data = run_child_json(
            ["search", "--db", meta["L"]["db"], "--repeat", str(repeat)], env, scratch
        )
        samples["note_search_L"] = data["search"]
        samples["bare_decrypt_L"] = data["floor"]
        samples["note_read_L"] = data["read"]
        search_info = {"notes": data["notes"], "hits": data["hits"], "needle": NEEDLE}

        say("bytes to a pseudo-terminal")
        data = terminal_bytes(meta["L"]["db"], env, repeat)
        samples["pty_idle_bytes_L"] = data["idle"]
        samples["pty_cursor_bytes_L"] = data["cursor"]
        samples["pty_page_down_bytes_L"] = data["page"]
        samples["build_L"] = [meta["L"]["build_seconds"]]

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
            "figures": figures,
            "targets": targets,
            "unmet": [t["name"] for t in targets if not t["met"]],
        }
        if meta["L"]["cached"]:
            say("build_L is the time recorded when the cached L was built (--rebuild to redo)")
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
    parser.add_argument("--repeat", type=int, default=7, help="runs of each measurement")
    parser.add_argument("--cache", metavar="DIR", help="where built practices are kept")
    parser.add_argument("--rebuild", action="store_true", help="build the practices anew")
    # Internal: one measurement in a child process.
    parser.add_argument("--child", choices=("build", "app", "search"), help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--kind", default="dashboard", help=argparse.SUPPRESS)
    parser.add_argument("--interactions", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--practice", help=argparse.SUPPRESS)
    ns = parser.parse_args(argv)
    ns.argv = argv
    if ns.small < 1 or ns.large < 1 or ns.repeat < 1:
        parser.error("--small, --large and --repeat must be at least 1")
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
