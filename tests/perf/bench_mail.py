#!/usr/bin/env python
"""How `trustdesk mail sync` holds up on a mailbox of 50,000 messages (issue 16).

    python tests/perf/bench_mail.py [--json FILE] [--messages N] [--clients N] [--repeat K]

Writes, with the email package, N messages (default 50,000) into a Maildir and the same
messages into an mbox file, a third from the practice's clients, a third from the coach
to them and a third from strangers, one in twenty from a mailing list; makes a practice
(a SQLite file) whose clients own those addresses; then, for each source:

- the first sync, which reads every message and logs the touches (once: it is a first);
- a sync with nothing new, K times (median and p95): the run cron makes every 15
  minutes, timed in process (sync_mail) and as the whole `trustdesk mail sync` command.

Target (the issue's): a sync with nothing new under 0.3 s over 50,000 messages. The
exit code is 0 when measuring worked, met or not.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from bench import as_installed  # noqa: E402  (tests/perf/bench.py)

TODAY = dt.date(2026, 3, 16)  # a Monday; the same day as the tests
ME = "morgan@coach.example"

FIGURES = {
    # name: (unit, what)
    "first_sync_maildir": ("s", "first sync, Maildir"),
    "nothing_new_maildir": ("s", "sync with nothing new, Maildir (in process)"),
    "command_nothing_new_maildir": ("s", "`trustdesk mail sync` nothing new, Maildir"),
    "first_sync_mbox": ("s", "first sync, mbox"),
    "nothing_new_mbox": ("s", "sync with nothing new, mbox (in process)"),
    "command_nothing_new_mbox": ("s", "`trustdesk mail sync` nothing new, mbox"),
}
# (name, figure[:stat], op, limit)
TARGETS = [
    ("nothing new, Maildir (s)", "nothing_new_maildir", "<=", 0.3),
    ("nothing new, mbox (s)", "nothing_new_mbox", "<=", 0.3),
    ("whole command, nothing new, Maildir (s)", "command_nothing_new_maildir", "<=", 0.3),
    ("whole command, nothing new, mbox (s)", "command_nothing_new_mbox", "<=", 0.3),
]


def say(text: str) -> None:
    print(f"bench_mail: {text}", file=sys.stderr, flush=True)


def write_mail(folder: Path, messages: int, clients: int) -> tuple[Path, Path]:
    """A Maildir and an mbox holding the same `messages` messages."""
    maildir, mbox = folder / "Maildir", folder / "inbox.mbox"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    start = dt.datetime(2025, 3, 16, 8, tzinfo=dt.UTC)
    step = dt.timedelta(days=365) / max(messages, 1)
    with open(mbox, "wb") as out:
        for i in range(messages):
            m = EmailMessage()
            client = f"Client {i % clients} <client{i % clients}@example.com>"
            kind = i % 3
            if kind == 0:
                m["From"], m["To"] = client, ME
            elif kind == 1:
                m["From"], m["To"] = ME, client
            else:
                m["From"], m["To"] = f"someone{i}@else.example", ME
            if i % 20 == 0:
                m["List-Id"] = "<news.example.com>"
            m["Subject"] = f"Message {i} about the next session"
            when = start + step * i
            m["Date"] = format_datetime(when)
            m["Message-ID"] = f"<bench{i}@example.com>"
            m.set_content(f"Body of message {i}.\n" * 20)
            data = m.as_bytes()
            name = f"{1700000000 + i}.M{i}P1.bench"
            sub, suffix = ("cur", ":2,S") if i % 2 else ("new", "")
            (maildir / sub / (name + suffix)).write_bytes(data)
            out.write(b"From bench@example.com " + when.strftime("%a %b %d %H:%M:%S %Y").encode())
            out.write(b"\n" + data.replace(b"\nFrom ", b"\n>From ") + b"\n")
    return maildir, mbox


def make_practice(path: Path, clients: int) -> None:
    from trustdesk.store import ensure_coach, open_database
    from trustdesk.store.models import Client, Coach

    database = open_database(path, create=True)
    try:
        ensure_coach("Morgan Reyes")
        coach = Coach.get()
        Coach.update(email=ME).execute()
        Client.insert_many(
            [
                {
                    "coach": coach,
                    "name": f"Client {i}",
                    "sort_name": f"client {i}",
                    "email": f"client{i}@example.com",
                    "started_on": dt.date(2025, 1, 1),
                }
                for i in range(clients)
            ]
        ).execute()
    finally:
        database.close()


def timed_sync(db_path: Path, source: Path):
    from trustdesk import config
    from trustdesk.config import Settings
    from trustdesk.mail_sync import sync_mail
    from trustdesk.store import current_coach, open_database

    database = open_database(db_path)
    try:
        started = time.perf_counter()
        result = sync_mail(
            current_coach(),
            [str(source)],
            settings=Settings(my_addresses=(ME,)),
            today=TODAY,
            now=dt.datetime.combine(TODAY, dt.time(12)),
        )
        took = time.perf_counter() - started
    finally:
        database.close()
        config.set_today(None)
    return took, result


def timed_command(db_path: Path, source: Path, env: dict) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "trustdesk", "--db", str(db_path), "mail", "sync", str(source)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"bench_mail: the command failed: {done.stderr.strip()}")
    return took


def summarise(values: list[float]) -> dict:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "median": round(statistics.median(ordered), 4),
        "p95": round(p95, 4),
        "max": round(ordered[-1], 4),
        "samples": len(ordered),
    }


def machine() -> dict:
    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="FILE", help="write the figures and targets here")
    parser.add_argument("--messages", type=int, default=50_000, help="messages (default 50,000)")
    parser.add_argument("--clients", type=int, default=200, help="clients (default 200)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each nothing-new sync")
    ns = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if ns.messages < 1 or ns.clients < 1 or ns.repeat < 1:
        parser.error("--messages, --clients and --repeat must be at least 1")
    os.umask(0o077)
    scratch = Path(tempfile.mkdtemp(prefix="trustdesk-bench-mail-"))
    home = scratch / "home"
    home.mkdir()
    os.environ["TRUSTDESK_HOME"] = str(home)
    os.environ["TRUSTDESK_TODAY"] = TODAY.isoformat()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env = as_installed(env)
    env["PYTHONPATH"] = str(ROOT)
    try:
        say(f"writing {ns.messages:,} messages")
        started = time.perf_counter()
        maildir, mbox = write_mail(scratch, ns.messages, ns.clients)
        written = time.perf_counter() - started
        samples: dict[str, list[float]] = {name: [] for name in FIGURES}
        runs = {}
        for kind, source in (("maildir", maildir), ("mbox", mbox)):
            db_path = scratch / f"{kind}.sqlite3"
            make_practice(db_path, ns.clients)
            say(f"first sync, {kind}")
            took, result = timed_sync(db_path, source)
            samples[f"first_sync_{kind}"].append(took)
            runs[kind] = {"read": result.read, "logged": result.logged}
            say(f"nothing new, {kind}")
            for _ in range(ns.repeat):
                took, again = timed_sync(db_path, source)
                if again.read:
                    raise SystemExit(f"bench_mail: a second sync of the {kind} read again")
                samples[f"nothing_new_{kind}"].append(took)
                samples[f"command_nothing_new_{kind}"].append(timed_command(db_path, source, env))
        figures = {n: summarise(v) | {"unit": FIGURES[n][0]} for n, v in samples.items()}
        targets = []
        for name, figure, op, limit in TARGETS:
            value = figures[figure]["median"]
            met = value <= limit if op == "<=" else value >= limit
            targets.append(
                {"name": name, "value": round(value, 4), "limit": limit, "op": op, "met": met}
            )
        report = {
            "command": "python tests/perf/bench_mail.py "
            + " ".join(sys.argv[1:] if argv is None else argv),
            "when": dt.datetime.now().isoformat(timespec="seconds"),
            "machine": machine(),
            "messages": ns.messages,
            "clients": ns.clients,
            "repeat": ns.repeat,
            "write_seconds": round(written, 2),
            "runs": runs,
            "figures": figures,
            "targets": targets,
            "unmet": [t["name"] for t in targets if not t["met"]],
        }
        print(f"{'figure':<52} {'median':>9} {'p95':>9}  n")
        for name, (unit, what) in FIGURES.items():
            f = figures[name]
            label = f"{what} ({unit})"
            print(f"{label:<52} {f['median']:>9.3f} {f['p95']:>9.3f}  {f['samples']}")
        print()
        for t in targets:
            verdict = "yes" if t["met"] else "NO"
            print(f"{t['name']:<36} {t['value']:>9.3f} {t['op']} {t['limit']:g}  {verdict}")
        print()
        print("all targets met" if not report["unmet"] else "unmet: " + "; ".join(report["unmet"]))
        if ns.json:
            Path(ns.json).write_text(json.dumps(report, indent=2) + "\n")
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
