"""Helpers shared by the tests: the command line, the database, and the full-screen app."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from trustdesk.tui.app import TrustdeskApp

TODAY = "2026-03-16"
PASSPHRASE = "a long walk on the beach"


def text(result):
    return result.stdout.decode(), result.stderr.decode()


def one_line_error(result, code=None):
    """Assert the command failed with exactly one `trustdesk: ...` line and no traceback."""
    out, err = text(result)
    assert result.returncode != 0, (out, err)
    if code is not None:
        assert result.returncode == code
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line]
    assert len(lines) == 1, err
    assert lines[0].startswith("trustdesk: ")
    return lines[0]


def delete_every_row(model) -> int:
    """Delete every row of `model` the coach sees, as trustdesk deletes (on a practice a
    coach deletes row by row, through the table's delete function)."""
    from trustdesk.store.practice import delete_rows

    ids = [row_id for (row_id,) in model.select(model.id).tuples()]
    return sum(delete_rows(model, model.id == row_id) for row_id in ids)


class QueryCounter:
    """Counts the SQL statements run inside a `with` block."""

    def __init__(self, database):
        self.database = database
        self.count = 0

    def __enter__(self):
        original = self.database.execute_sql

        def counting(sql, params=None, *args, **kwargs):
            self.count += 1
            return original(sql, params, *args, **kwargs)

        self.original = original
        self.database.execute_sql = counting
        return self

    def __exit__(self, *exc):
        self.database.execute_sql = self.original


async def settle(pilot) -> None:
    """Let every worker finish, including the reloads their `done` callbacks start."""
    app = pilot.app
    for _ in range(50):
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        if all(worker.is_finished for worker in app.workers):
            return
    raise AssertionError("workers never settled")


def pg_url(url: str, *, dbname: str | None = None, user: str | None = None) -> str:
    """The same PostgreSQL server URL with another database or another login role."""
    from urllib.parse import parse_qsl, urlencode, urlsplit

    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    netloc = parts.netloc
    if user is not None:
        netloc = netloc.rpartition("@")[2]
        query["user"] = user
        query.pop("password", None)
    path = f"/{dbname}" if dbname is not None else parts.path
    encoded = urlencode(query, safe="/")
    return f"{parts.scheme}://{netloc}{path}" + (f"?{encoded}" if encoded else "")


def old_format_practice(coach, clients, passphrase: str) -> list:
    """A coach's key and notes as trustdesk sealed them before notes bound their client,
    kind and date (seal format 1, a slot without the new format's mark): one note per
    client, reading "old note N"."""
    import json
    import os
    import uuid

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from trustdesk.store import KeySlot, Note
    from trustdesk.vault import vault as vault_module
    from trustdesk.vault.sealing import associated_data, new_data_key, new_key_id

    key, key_id = new_data_key(), new_key_id()
    params = {
        "kdf": "argon2id",
        "salt": vault_module._b64(os.urandom(16)),
        "memory_kib": 19 * 1024,
        "iterations": 2,
        "lanes": 1,
    }
    slot_id = uuid.uuid4()
    kek = vault_module._argon2(passphrase, params)
    KeySlot.create(
        id=slot_id,
        coach=coach,
        kind="passphrase",
        key_id=key_id,
        wrapped_key=vault_module._wrap(kek, key, str(slot_id), "passphrase", key_id),
        params=json.dumps(params),
    )
    ids = []
    for n, client in enumerate(clients):
        note_id = uuid.uuid4()
        nonce = os.urandom(12)
        aad = associated_data("note", note_id, "body", key_id, 1)
        body = AESGCM(key).encrypt(nonce, f"old note {n}".encode(), aad)
        Note.create(
            id=note_id,
            coach=coach,
            client=client,
            kind="goal",
            written_on="2026-03-01",
            body_sealed=bytes([1]) + bytes.fromhex(key_id) + nonce + body,
        )
        ids.append(note_id)
    return ids


# --- driving the full-screen app ------------------------------------------------------------


class RecordingApp(TrustdeskApp):
    """The app, remembering what it told the coach and what it wrote to the terminal."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.said: list[str] = []
        self.written: list[str] = []

    def notify(self, message, *args, **kwargs) -> None:
        self.said.append(str(message))
        super().notify(message, *args, **kwargs)

    def record_terminal(self) -> None:
        driver = self._driver
        original = driver.write

        def write(data: str) -> None:
            self.written.append(data)
            original(data)

        driver.write = write


async def wait_for_screen(pilot: Pilot, kind: type | str) -> None:
    """Wait until the screen on top is `kind` (a class, or a class's name).

    Up to 30 s: behind a screen there may be a full-strength unlock on a busy machine.
    """
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        screen = pilot.app.screen
        if (isinstance(kind, str) and type(screen).__name__ == kind) or (
            isinstance(kind, type) and isinstance(screen, kind)
        ):
            return
        await pilot.pause(0.05)
    name = kind if isinstance(kind, str) else kind.__name__
    raise AssertionError(f"{name} never showed; the screen is {pilot.app.screen!r}")


async def type_into(pilot: Pilot, selector: str, text: str) -> None:
    """Focus a form field, empty it, and type as a coach would."""
    widget = pilot.app.screen.query_one(selector)
    widget.focus()
    if isinstance(widget, Input):
        widget.value = ""
    elif isinstance(widget, TextArea):
        widget.text = ""
    await pilot.pause()
    await pilot.press(*text)
