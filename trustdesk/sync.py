"""Mail and calendar sync in one call, for the app's sync on start (settings.sync_on_start).

Each half runs on its own: a mailbox that cannot be read does not keep the calendar from
syncing, and an empty source list skips its half. What went wrong comes back as one
line per half, never raised: the app says it in one notification, not a traceback.
The sync modules are imported only when their half runs (they pull in parsers the app
does not otherwise need).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from trustdesk.config import Settings
from trustdesk.store.models import Coach


@dataclass(frozen=True)
class SyncSummary:
    """What one run of both syncs did; `changed` when anything was written."""

    mail_ran: bool = False
    calendar_ran: bool = False
    touches: int = 0  # touches logged from mail
    replies: int = 0  # of those, replies to prompts
    scheduled: int = 0  # sessions made from the calendar
    moved: int = 0
    cancelled: int = 0
    mail_error: str = ""
    calendar_error: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.touches or self.scheduled or self.moved or self.cancelled)

    @property
    def failed(self) -> bool:
        return bool(self.mail_error or self.calendar_error)

    def words(self) -> str:
        """'Mail: 3 new touches; calendar: 1 session moved', what failed in the same line;
        "" when nothing was logged and nothing went wrong."""
        parts = []
        if self.mail_error:
            parts.append(f"Mail: {self.mail_error}")
        elif self.touches:
            mail = _count(self.touches, "new touch", "new touches")
            if self.replies:
                mail += f" ({_replies(self.replies)})"
            parts.append(f"Mail: {mail}")
        if self.calendar_error:
            parts.append(f"calendar: {self.calendar_error}")
        else:
            done = [
                _count(n, "session") + f" {what}"
                for n, what in (
                    (self.scheduled, "added"),
                    (self.moved, "moved"),
                    (self.cancelled, "cancelled"),
                )
                if n
            ]
            if done:
                parts.append("calendar: " + ", ".join(done))
        text = "; ".join(parts)
        return text[:1].upper() + text[1:]


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else "") or type(exc).__name__


def sync_everything(
    coach: Coach, settings: Settings, today: dt.date, now: dt.datetime
) -> SyncSummary:
    """Sync the mail and calendar sources the settings name; see the module's doc."""
    found: dict[str, object] = {}
    if settings.mail_sources:
        found["mail_ran"] = True
        try:
            from trustdesk.mail_sync import sync_mail

            mail = sync_mail(coach, settings.mail_sources, settings=settings, today=today, now=now)
        except Exception as exc:  # noqa: BLE001 - one line for the coach, the calendar still runs
            found["mail_error"] = _one_line(exc)
        else:
            found["touches"] = int(getattr(mail, "logged", 0))
            found["replies"] = int(getattr(mail, "replies", 0))
    if settings.calendar_sources:
        found["calendar_ran"] = True
        try:
            from trustdesk.calendar_sync import sync_calendars

            calendar = sync_calendars(
                coach, settings.calendar_sources, settings=settings, today=today, now=now
            )
        except Exception as exc:  # noqa: BLE001 - one line for the coach
            found["calendar_error"] = _one_line(exc)
        else:
            for name in ("scheduled", "moved", "cancelled"):
                found[name] = int(getattr(calendar, name, 0))
    return SyncSummary(**found)  # type: ignore[arg-type]


def _replies(count: int) -> str:
    return "1 reply to a prompt" if count == 1 else f"{count} replies to prompts"
