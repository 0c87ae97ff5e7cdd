"""Contact between sessions (frequency of contact): log, correct and remove a touch, snooze.

A touch logged by mistake can be corrected or taken back; the cadence is counted again
without it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from trustdesk.literal import visible
from trustdesk.trust import contact
from trustdesk.trust.contact import TOUCH_CHANNELS, TOUCH_DIRECTIONS, TouchItem
from trustdesk.tui.flows.base import Done, SavedRecord, ask_then_change, ask_then_perform
from trustdesk.tui.formatting import day
from trustdesk.tui.forms import ConfirmForm, Field, FormScreen, not_after, not_before
from trustdesk.tui.labels import CHANNEL_LABELS

if TYPE_CHECKING:
    from trustdesk.tui.app import TrustdeskApp


def _touch_fields(
    today: dt.date, *, channel: str | None, direction: str | None, summary: str, on: dt.date
) -> list[Field]:
    """The fields a new touch and a corrected one share, filled with these values."""
    return [
        Field(
            "channel",
            "Channel",
            kind="choice",
            choices=[(CHANNEL_LABELS[c], c) for c in TOUCH_CHANNELS],
            default=channel,
            required=True,
        ),
        Field(
            "direction",
            "Direction",
            kind="choice",
            choices=[("I reached out", "outbound"), ("They reached out", "inbound")],
            default=direction,
            required=True,
        ),
        Field("summary", "In a line: what was it about?", default=summary),
        Field(
            "occurred_on",
            "When (e.g. today, mon, 3 dec)",
            kind="date",
            default=on,
            required=True,
            check=not_after(today, "today"),
        ),
    ]


def log_touch(app: TrustdeskApp, client_id: int, client_name: str, done: Done | None) -> None:
    today = app.today
    form = FormScreen(
        f"Log a touch with {visible(client_name)}",
        _touch_fields(today, channel="email", direction="outbound", summary="", on=today),
    )

    ask_then_perform(
        app,
        form,
        lambda values: contact.log_touch(
            app.coach,
            client_id,
            channel=values["channel"],
            direction=values["direction"],
            summary=values["summary"] or "",
            occurred_on=values["occurred_on"],
            today=today,
        ),
        f"Logged a touch with {visible(client_name)}",
        done,
    )


def snooze(
    app: TrustdeskApp,
    client_id: int,
    client_name: str,
    snoozed_until: dt.date | None,
    done: Done | None,
) -> None:
    today = app.today
    form = FormScreen(
        f"Snooze {visible(client_name)}",
        [
            Field(
                "until",
                "Snooze until (e.g. +2w, 3 jan); empty lifts the snooze",
                kind="date",
                default=snoozed_until or today + dt.timedelta(days=14),
                check=not_before(today, "today"),
            )
        ],
        intro="While snoozed, a client is never due for contact.",
    )

    def said(values: dict) -> str:
        until = values["until"]
        if until:
            return f"{visible(client_name)} snoozed until {day(until)}"
        return f"Snooze lifted for {visible(client_name)}"

    ask_then_perform(
        app,
        form,
        lambda values: contact.snooze(app.coach, client_id, values["until"], today),
        said,
        done,
    )


def touch_words(touch: TouchItem) -> str:
    """'Call, they reached out, 12 Mar 2026: <summary>' for a sentence about one touch."""
    way = "I reached out" if touch.direction == "outbound" else "they reached out"
    words = f"{CHANNEL_LABELS.get(touch.channel, touch.channel)}, {way}, "
    words += day(touch.occurred_on)
    if touch.summary:
        words += f": {visible(touch.summary)}"
    return words


def _touch_values(touch: TouchItem) -> dict[str, Any]:
    """A touch as the edit form holds it (a channel or direction it does not offer: none)."""
    return {
        "channel": touch.channel if touch.channel in TOUCH_CHANNELS else None,
        "direction": touch.direction if touch.direction in TOUCH_DIRECTIONS else None,
        "summary": touch.summary,
        "occurred_on": touch.occurred_on,
        "counts": "yes" if touch.counts_for_cadence else "no",
    }


def edit_touch(app: TrustdeskApp, touch: TouchItem, done: Done | None) -> None:
    today = app.today
    shown = _touch_values(touch)
    form = FormScreen(
        "Edit a touch",
        [
            *_touch_fields(
                today,
                channel=shown["channel"],
                direction=shown["direction"],
                summary=shown["summary"],
                on=shown["occurred_on"],
            ),
            Field(
                "counts",
                "Counts toward contact cadence?",
                kind="choice",
                # Not True/False: the form reads a Select's False as "nothing chosen".
                choices=[("Yes", "yes"), ("No, only on the record", "no")],
                default=shown["counts"],
                required=True,
            ),
        ],
    )

    ask_then_change(
        app,
        form,
        lambda values, version: contact.edit_touch(
            app.coach,
            touch.touch_id,
            channel=values["channel"],
            direction=values["direction"],
            summary=values["summary"] or "",
            occurred_on=values["occurred_on"],
            today=today,
            counts_for_cadence=values["counts"] == "yes",
            version=version,
        ),
        "Touch saved",
        done,
        version=touch.version,
        record=SavedRecord(
            lambda: contact.saved_touch(app.coach, touch.touch_id), touch_words, _touch_values
        ),
    )


def remove_touch(app: TrustdeskApp, touch: TouchItem, done: Done | None) -> None:
    """Take back a touch logged by mistake, once the coach has confirmed it."""
    form = ConfirmForm(
        "Remove a touch",
        f"{touch_words(touch)} will be removed. Contact cadence is counted again without it.",
        save="Remove",
    )

    ask_then_perform(
        app,
        form,
        lambda values: contact.remove_touch(app.coach, touch.touch_id, version=touch.version),
        "Touch removed",
        done,
    )
