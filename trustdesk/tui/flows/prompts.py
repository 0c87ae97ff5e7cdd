"""Between-session prompts (frequency and depth): the prompt library, sending one, the reply.

Copying or saving a message logs nothing; only marking it as sent does, so a message
that was copied but never sent does not count as contact. Saving writes a new private
file through the store and never replaces one.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from trustdesk.literal import visible
from trustdesk.store import StoreError
from trustdesk.store.database import save_refusal, write_private
from trustdesk.trust.common import ActionError
from trustdesk.trust.prompts import (
    TRUST_HABITS,
    AwaitingReply,
    ComposedMessage,
    PromptItem,
    add_prompt,
    awaiting_reply,
    edit_prompt,
    first_name,
    log_reply,
    saved_prompt,
    send_prompt,
)
from trustdesk.tui.failures import failure_line
from trustdesk.tui.flows.base import Done, SavedRecord, ask_then_change, perform
from trustdesk.tui.formatting import day, literal
from trustdesk.tui.forms import ConfirmForm, Field, FormScreen
from trustdesk.tui.labels import HABIT_LABELS

if TYPE_CHECKING:
    from trustdesk.tui.app import TrustdeskApp


def db_message(exc: StoreError) -> str:
    return f"Could not load the prompts: {exc}"


# --- the library ------------------------------------------------------------------------------


def _prompt_fields(item: PromptItem | None) -> list[Field]:
    return [
        Field(
            "habit",
            "Which habit of trust does it serve?",
            kind="choice",
            choices=[(HABIT_LABELS[h], h) for h in TRUST_HABITS],
            default=item.habit if item else "depth",
            required=True,
        ),
        Field("title", "Title (what you see in the list)", default=item.title if item else "",
              required=True),
        Field("stage_hint", "Fits best at (start, middle, ending or a stage name; optional)",
              default=item.stage_hint if item else ""),
        Field("body", "The question ({first_name} and {stage} are filled in)", kind="long",
              default=item.body if item else "", required=True),
    ]  # fmt: skip


def add_prompt_flow(app: TrustdeskApp, done: Done | None) -> None:
    """A new prompt of the coach's own, in their library."""
    form = FormScreen("A new prompt", _prompt_fields(None))

    def saved(values: dict | None) -> None:
        if values:
            perform(
                app,
                lambda: add_prompt(
                    app.coach,
                    values["habit"],
                    values["title"],
                    values["body"],
                    values["stage_hint"] or "",
                ),
                "Prompt added",
                done,
            )

    app.push_screen(form, saved)


def edit_prompt_flow(app: TrustdeskApp, item: PromptItem, done: Done | None) -> None:
    coach = app.coach
    ask_then_change(
        app,
        FormScreen("Edit a prompt", _prompt_fields(item)),
        lambda values, version: edit_prompt(
            coach,
            item.prompt_id,
            habit=values["habit"],
            title=values["title"],
            body=values["body"],
            stage_hint=values["stage_hint"] or "",
            version=version,
        ),
        "Prompt saved",
        done,
        version=item.version,
        record=SavedRecord(
            lambda: saved_prompt(coach, item.prompt_id),
            lambda now: visible(now.title),
            lambda now: {
                "habit": now.habit,
                "title": now.title,
                "body": now.body,
                "stage_hint": now.stage_hint,
            },
        ),
    )


# --- sending one ------------------------------------------------------------------------------


def message_file_text(message: ComposedMessage) -> str:
    """The message as it is saved: a draft with its headers, ready to paste."""
    head = f"To: {message.to_email}\n" if message.to_email else ""
    return f"{head}Subject: {message.subject}\n\n{message.body}\n"


def default_file(client_name: str, today: dt.date) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", first_name(client_name).lower()).strip("-") or "client"
    return f"~/prompt-{slug}-{today.isoformat()}.txt"


def save_message(app: TrustdeskApp, client_name: str, message: ComposedMessage) -> None:
    """Ask for a new file's name, then write the message there (only the coach can read it)."""
    form = FormScreen(
        "Save the message to a file",
        [
            Field(
                "path",
                "File (a new one; only you can read it)",
                default=default_file(client_name, app.today),
                required=True,
            )
        ],
        save="Save",
    )

    def chosen(values: dict | None) -> None:
        if values:
            path = Path(os.path.expanduser(values["path"].strip()))
            app.run_worker(
                lambda: _write_message(app, path, message),
                thread=True,
                group="prompt-save",
                exit_on_error=False,
            )

    app.push_screen(form, chosen)


def _write_message(app: TrustdeskApp, path: Path, message: ComposedMessage) -> None:
    """Write the message to a new private file (in a thread worker) and say how it went."""
    try:
        write_private(path, message_file_text(message))
    except (OSError, StoreError) as exc:
        app.call_from_thread(app.notify, save_refusal(path, exc), severity="warning",
                             markup=False)  # fmt: skip
        return
    app.call_from_thread(
        app.notify, f"Saved to {visible(str(path))}. Press l once you have sent it.",
        markup=False,
    )  # fmt: skip


def mark_sent(
    app: TrustdeskApp, prompt_id: int, client_id: int, client_name: str, done: Done | None
) -> None:
    """Log the prompt as sent: from now on it counts as contact, and awaits a reply."""
    today = app.today
    perform(
        app,
        lambda: send_prompt(app.coach, prompt_id, client_id, today),
        f"Logged: prompt sent to {visible(client_name)}",
        done,
    )


def email_address(client_name: str, to_email: str) -> str:
    """ "Kwame Mensah <kwame@example.org>", as the message will be addressed."""
    from trustdesk.mail_send import mailbox

    return mailbox(client_name, to_email)


def send_by_email(
    app: TrustdeskApp,
    prompt_id: int,
    client_id: int,
    client_name: str,
    to_email: str,
    title: str,
    *,
    sending: Callable[[], None],
    finished: Callable[[bool], None],
    done: Done | None,
) -> None:
    """Ask to confirm, then send in a thread worker; only a message that left is logged.

    `sending` runs once the coach confirms (the screen says "Sending…"); `finished` gets
    whether it went. A failure is said in its one line and logs nothing.
    """
    to = email_address(client_name, to_email)
    form = ConfirmForm(
        "Send by email",
        f"Send to {visible(to)}?\nSubject: {visible(' '.join(title.split()))}\n"
        "Once it has left it is logged as sent, awaiting the reply.",
        save="Send",
    )
    today = app.today
    settings = app.settings

    def send() -> None:
        from trustdesk.prompt_mail import send_prompt_by_email

        try:
            sent = app.fetch(
                send_prompt_by_email, app.coach, prompt_id, client_id,
                settings=settings, today=today,
            )  # fmt: skip
        except (ActionError, StoreError) as exc:
            app.call_from_thread(app.notify, str(exc), severity="warning", markup=False)
            app.call_from_thread(finished, False)
            return
        except Exception as exc:  # noqa: BLE001 - a send must not end in a traceback
            line = f"Not sent: {failure_line(exc, doing='send it')}"
            app.call_from_thread(app.notify, line, severity="error", markup=False)
            app.call_from_thread(finished, False)
            return
        line = f"Sent “{visible(sent.title)}” to {visible(sent.to)}; waiting for the reply."
        app.call_from_thread(app.notify, line, markup=False)
        app.call_from_thread(finished, True)
        if done is not None:
            app.call_from_thread(done)

    def confirmed(values: dict | None) -> None:
        if values is not None:
            sending()
            app.run_worker(send, thread=True, group="prompt-email", exit_on_error=False)

    app.push_screen(form, confirmed)


# --- the reply ----------------------------------------------------------------------------------


def log_reply_flow(app: TrustdeskApp, client_id: int, client_name: str, done: Done | None) -> None:
    """Ask which of the prompts awaiting this client's reply they answered, and log it."""
    today = app.today

    def load() -> None:
        try:
            waiting = app.fetch(awaiting_reply, app.coach, today, client_id=client_id)
        except StoreError as exc:
            app.call_from_thread(app.notify, db_message(exc), severity="error", markup=False)
            return
        app.call_from_thread(ask, waiting)

    def ask(waiting: list[AwaitingReply]) -> None:
        name = visible(client_name)
        if not waiting:
            app.notify(f"No prompt sent to {name} is awaiting a reply.", markup=False)
            return
        latest_first = sorted(waiting, key=lambda w: (w.sent_on, w.prompt_id), reverse=True)
        choices = []
        for w in latest_first:
            label = literal(w.prompt_title)
            label.append(f"  · sent {day(w.sent_on)}, {w.days_waiting}d ago", "dim")
            choices.append((label, w.prompt_id))
        form = FormScreen(
            f"Log a reply from {name}",
            [
                Field("prompt", "Which prompt did they answer?", kind="choice", choices=choices,
                      default=latest_first[0].prompt_id, required=True),
                Field("summary", "In a line: what did they say? (optional)"),
            ],
            intro="Logged today as their reply, linked to the prompt.",
        )  # fmt: skip

        def saved(values: dict | None) -> None:
            if values:
                perform(
                    app,
                    lambda: log_reply(
                        app.coach, client_id, values["prompt"], today, values["summary"] or ""
                    ),
                    f"Logged a reply from {name}",
                    done,
                )

        app.push_screen(form, saved)

    app.run_worker(load, thread=True, group="prompt-replies", exit_on_error=False)
