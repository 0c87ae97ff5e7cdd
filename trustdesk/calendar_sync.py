"""Sessions from the coach's calendar: `trustdesk calendar sync`.

A source is an .ics file (a calendar's export, or a Google "secret address" a cron job
downloads) or a vdir folder (one .ics per event, as vdirsyncer and khal keep them).
Recurring events are expanded with recurring-ical-events over a window around today,
and every start is turned into the coach's wall-clock time, as sessions are kept.

Which client an event is: an ATTENDEE or the ORGANIZER whose address is an address of
exactly one client (the coach's own addresses are no client); with the setting
calendar_match_summary, else a SUMMARY that names exactly one client's whole name. An
event with several clients on it (a group session) gives each of them a session.

How it stays in step (each session carries its event's key, Session.calendar_key):
- a new event: a scheduled session (its length from DTEND or DURATION, else 60 minutes);
- an event moved in the calendar: its session, while still scheduled, moves too. The
  latest change wins: a session the coach moved by hand since the last sync stays where
  the coach put it until the calendar moves the event again;
- STATUS:CANCELLED, an occurrence taken out of a series (EXDATE), an event deleted from
  the source, or a client no longer on it: their sessions still to come are cancelled
  (who called it off is not known, so it is not recorded);
- a session held, cancelled or missed is never changed, and nothing is marked held:
  past sessions wait for the coach to say how they went.

Each source is written in one transaction, holding its calendar_source row, so two syncs
of one calendar take turns; the unique key (coach, client, calendar_key) makes one
session per event per client whatever happens. A file whose size and modification time
have not changed since the last sync is not read again (unless its events reach past
the window, which moves with the day).

Not imported by the app's start: icalendar and recurring-ical-events are loaded here
only when a sync runs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo

from peewee import IntegrityError

from trustdesk import config
from trustdesk.store.models import (
    CalendarSource,
    Client,
    Coach,
    Session,
    db,
    name_key,
    ways_to_reach,
)
from trustdesk.store.states import ClientStatus, SessionStatus
from trustdesk.trust.common import ActionError, ChangedElsewhere
from trustdesk.trust.sessions import reschedule_session, set_session_status

# How far the sync looks. Back a month: sessions of the last weeks still waiting for an
# outcome come in (a coach starting to sync sees what to record), while older history,
# which the coach recorded by hand or not at all, is left alone. Ahead three months: the
# horizon a coach plans sessions over; a weekly series gives about 13 sessions to come.
WINDOW_BACK = dt.timedelta(days=30)
WINDOW_AHEAD = dt.timedelta(days=90)
# A session lasts between these (trust.sessions refuses others); a calendar event longer
# or shorter is kept at the nearest.
SHORTEST, LONGEST = 5, 8 * 60
DEFAULT_MINUTES = 60
MARK_FORMAT = 1


class CalendarError(ActionError):
    """A calendar could not be read; one line, and nothing was written."""


@dataclass(frozen=True)
class SyncedSession:
    """One session the sync made, moved or cancelled (or would, in a dry run)."""

    action: str  # "scheduled", "moved" or "cancelled"
    session_id: int | None  # None in a dry run for a session not yet made
    client_id: int
    client_name: str
    start: dt.datetime  # the coach's wall-clock time, as sessions are kept
    minutes: int
    calendar_key: str
    event: str  # the event's SUMMARY, as the calendar has it


@dataclass(frozen=True)
class SourceResult:
    """What one calendar gave."""

    source: str  # as the coach named it
    path: str  # the absolute path its mark is kept under
    scheduled: int = 0
    moved: int = 0
    cancelled: int = 0
    unchanged: int = 0  # sessions the calendar still agrees with, or that are past changing
    skipped: int = 0  # events (a series counts once) that matched no client, or several
    files_read: int = 0
    files_unchanged: int = 0  # vdir files not read again: same size and time as last sync
    unreadable: tuple[str, ...] = ()  # files that are not calendars, left out
    changes: tuple[SyncedSession, ...] = ()


@dataclass(frozen=True)
class CalendarSyncResult:
    sources: tuple[SourceResult, ...]
    dry_run: bool

    def _sum(self, name: str) -> int:
        return sum(getattr(s, name) for s in self.sources)

    @property
    def scheduled(self) -> int:
        return self._sum("scheduled")

    @property
    def moved(self) -> int:
        return self._sum("moved")

    @property
    def cancelled(self) -> int:
        return self._sum("cancelled")

    @property
    def unchanged(self) -> int:
        return self._sum("unchanged")

    @property
    def skipped(self) -> int:
        return self._sum("skipped")

    @property
    def changes(self) -> tuple[SyncedSession, ...]:
        return tuple(c for s in self.sources for c in s.changes)


@dataclass(frozen=True)
class _Event:
    """One occurrence as the sync needs it."""

    key: str
    uid: str
    start: dt.datetime  # the coach's wall-clock time
    minutes: int
    cancelled: bool
    summary: str
    addresses: frozenset[str]  # attendees' and organizer's, casefolded


class _DryRun(Exception):
    """Raised inside a dry run's transaction to roll it back."""


# --- reading calendars ---------------------------------------------------------------


def _address(value: object) -> str:
    text = str(value).strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    return text.strip().casefold()


def _addresses(component) -> frozenset[str]:
    found = set()
    attendees = component.get("ATTENDEE")
    if attendees is not None:
        if not isinstance(attendees, list):
            attendees = [attendees]
        found.update(_address(a) for a in attendees)
    organizer = component.get("ORGANIZER")
    if organizer is not None:
        found.add(_address(organizer))
    found.discard("")
    return frozenset(found)


def _wall_clock(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """A start as the coach's wall-clock time; a floating time already is one."""
    if value.tzinfo is not None:
        value = value.astimezone(zone).replace(tzinfo=None)
    return value.replace(second=0, microsecond=0)


def _minutes(component, start: dt.datetime) -> int:
    try:
        if "DTEND" in component:
            end = component.decoded("DTEND")
            if isinstance(end, dt.datetime) and (end.tzinfo is None) == (start.tzinfo is None):
                length = end - start
            else:
                return DEFAULT_MINUTES
        elif "DURATION" in component:
            length = component.decoded("DURATION")
        else:
            return DEFAULT_MINUTES
    except (ValueError, TypeError, KeyError):
        return DEFAULT_MINUTES
    if not isinstance(length, dt.timedelta):
        return DEFAULT_MINUTES
    minutes = round(length.total_seconds() / 60)
    if minutes <= 0:
        return DEFAULT_MINUTES  # no length given (an occurrence ends as it starts)
    return min(max(minutes, SHORTEST), LONGEST)


def _recurring_uids(calendar) -> set[str]:
    """UIDs of series: an RRULE or RDATE, or more than one component with the UID."""
    seen: dict[str, int] = {}
    series = set()
    for component in calendar.walk("VEVENT"):
        uid = str(component.get("UID", ""))
        seen[uid] = seen.get(uid, 0) + 1
        if "RRULE" in component or "RDATE" in component or "RECURRENCE-ID" in component:
            series.add(uid)
    return series | {uid for uid, n in seen.items() if n > 1}


def read_events(
    data: bytes, zone: ZoneInfo, start: dt.datetime, end: dt.datetime
) -> tuple[list[_Event], bool]:
    """The timed occurrences of a calendar's events that start in [start, end), and
    whether reading it again on a later day could give more (a series, or an event past
    the window's end). All-day events are no sessions and are left out."""
    import icalendar
    import recurring_ical_events

    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError):
        raise CalendarError("not an iCalendar file") from None
    series = _recurring_uids(calendar)
    later = bool(series)
    for component in calendar.walk("VEVENT"):
        try:
            begins = component.decoded("DTSTART")
        except (KeyError, ValueError, TypeError):
            continue
        if isinstance(begins, dt.datetime) and _wall_clock(begins, zone) >= end:
            later = True
    query = recurring_ical_events.of(calendar, skip_bad_series=True)
    # Aware bounds: each occurrence is compared in its own zone; floating ones (made
    # aware in no zone) are compared as the coach's wall clock.
    window = query.between(start.replace(tzinfo=zone), end.replace(tzinfo=zone))
    events = []
    keys_by_day: dict[str, int] = {}
    raw = []
    for component in window:
        try:
            begins = component.decoded("DTSTART")
        except (KeyError, ValueError, TypeError):
            continue
        if not isinstance(begins, dt.datetime):
            continue  # an all-day event: a day off, a birthday, no session
        uid = str(component.get("UID", "")).strip()
        if not uid:
            continue
        key = uid
        if uid in series:
            rid = component.get("RECURRENCE-ID")
            original = rid.dt if rid is not None else begins
            day = original.date() if isinstance(original, dt.datetime) else original
            key = f"{uid}/{day.isoformat()}"
            exact = original.isoformat() if isinstance(original, dt.datetime) else str(day)
            keys_by_day[key] = keys_by_day.get(key, 0) + 1
            raw.append((key, exact, uid, begins, component))
        else:
            raw.append((key, None, uid, begins, component))
    for key, exact, uid, begins, component in raw:
        if exact is not None and keys_by_day.get(key, 0) > 1:
            # Two occurrences of one series on one day: each is named by its exact time.
            key = f"{uid}/{exact}"
        status = str(component.get("STATUS", "")).strip().upper()
        events.append(
            _Event(
                key=key,
                uid=uid,
                start=_wall_clock(begins, zone),
                minutes=_minutes(component, begins),
                cancelled=status == "CANCELLED",
                summary=str(component.get("SUMMARY", "")),
                addresses=_addresses(component),
            )
        )
    return events, later


# --- matching clients ----------------------------------------------------------------


class _Clients:
    """The coach's clients as events name them: by address, and by whole name."""

    def __init__(self, coach: Coach, mine: Iterable[str]) -> None:
        self.mine = {a.strip().casefold() for a in mine if a.strip()}
        self.names: dict[int, str] = {}
        self.stages: dict[int, int | None] = {}
        self.by_address: dict[str, set[int]] = {}
        self.name_keys: list[tuple[str, int]] = []
        rows = Client.select(
            Client.id, Client.name, Client.email, Client.more_emails, Client.stage
        ).where((Client.coach == coach) & (Client.status != ClientStatus.ARCHIVED))
        for cid, name, email, more, stage in rows.tuples():
            self.names[cid] = name
            self.stages[cid] = stage
            for address in ways_to_reach(email, more):
                address = address.strip().casefold()
                if address:
                    self.by_address.setdefault(address, set()).add(cid)
            key = name_key(name)
            if key:
                self.name_keys.append((key, cid))

    def of(self, event: _Event, by_summary: bool) -> tuple[int, ...]:
        """The clients an event is a session with; none when it names none, or names
        no one client for sure."""
        found: set[int] = set()
        for address in event.addresses - self.mine:
            owners = self.by_address.get(address, set())
            if len(owners) == 1:
                found |= owners
        if not found and by_summary:
            words = f" {name_key(event.summary)} "
            named = {cid for key, cid in self.name_keys if f" {key} " in words}
            if len(named) == 1:
                found = named
        return tuple(sorted(found))

    def fingerprint(self, zone: str, by_summary: bool) -> str:
        """A digest of everything matching reads, to tell when it has changed."""
        import hashlib

        held = [zone, by_summary, sorted(self.mine), sorted(self.names.items()),
                sorted((a, sorted(ids)) for a, ids in self.by_address.items())]  # fmt: skip
        return hashlib.sha256(json.dumps(held).encode()).hexdigest()[:32]


# --- the sources and their marks ------------------------------------------------------


def _files(path: Path) -> list[tuple[str, Path]]:
    """(name kept in the mark, file) for each calendar file of a source."""
    if path.is_dir():
        return sorted(
            (entry.name, Path(entry.path))
            for entry in os.scandir(path)
            if entry.name.endswith(".ics") and not entry.name.startswith(".") and entry.is_file()
        )
    return [("", path)]


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def checked_sources(sources: Sequence[str]) -> list[tuple[str, Path]]:
    """Each source as named and as an absolute path; a missing one refuses them all."""
    if not sources:
        raise CalendarError(
            "name a calendar to read: trustdesk calendar sync ~/.calendars/work (a vdir "
            "folder or an .ics file), or list them as calendar_sources in settings"
        )
    found = []
    for source in sources:
        path = Path(os.path.expanduser(source)).absolute()
        if not (path.is_dir() or path.is_file()):
            raise CalendarError(f"no calendar at {source}: name an .ics file or a vdir folder")
        found.append((source, path))
    return found


def _load_mark(text: str) -> dict:
    try:
        mark = json.loads(text or "{}")
    except ValueError:
        return {}
    if not isinstance(mark, dict) or mark.get("format") != MARK_FORMAT:
        return {}
    return mark


def _source_row(coach: Coach, path: str) -> CalendarSource:
    """The source's row, made if new, and held until the transaction ends: a second sync
    of the same calendar waits here and then reads what the first one wrote."""
    CalendarSource.insert(coach=coach, path=path, mark="{}").on_conflict_ignore().execute()
    query = CalendarSource.select().where(
        (CalendarSource.coach == coach) & (CalendarSource.path == path)
    )
    if db.obj.for_update:
        query = query.for_update()
    return query.get()


# --- the sync ------------------------------------------------------------------------


def sync_calendars(
    coach: Coach,
    sources: Sequence[str],
    *,
    settings: config.Settings,
    today: dt.date,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> CalendarSyncResult:
    """Bring the coach's sessions in step with each calendar; see the module's doc."""
    named = checked_sources(sources)
    zone = ZoneInfo(config.time_zone_name(settings))
    now = now or config.now()
    start = dt.datetime.combine(today, dt.time.min) - WINDOW_BACK
    end = dt.datetime.combine(today, dt.time.min) + WINDOW_AHEAD
    mine = [coach.email, *settings.my_addresses]
    results = []
    for source, path in named:
        results.append(
            _sync_source(
                coach, source, path, zone=zone, window=(start, end), now=now, today=today,
                mine=mine, by_summary=settings.calendar_match_summary, dry_run=dry_run,
            )
        )  # fmt: skip
    return CalendarSyncResult(tuple(results), dry_run)


def _sync_source(coach, source, path, *, zone, window, now, today, mine, by_summary, dry_run):
    outcome: list[SourceResult] = []
    try:
        with db.atomic():
            outcome.append(
                _sync_in_transaction(
                    coach, source, path, zone=zone, window=window, now=now, today=today,
                    mine=mine, by_summary=by_summary, dry_run=dry_run,
                )
            )  # fmt: skip
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return outcome[0]


def _sync_in_transaction(coach, source, path, *, zone, window, now, today, mine, by_summary,
                         dry_run) -> SourceResult:  # fmt: skip
    row = _source_row(coach, str(path))
    mark = _load_mark(row.mark)
    clients = _Clients(coach, mine)
    # What decides which client an event is: with another client, address or setting,
    # every file is read again.
    rules = clients.fingerprint(str(zone), by_summary)
    old_files: dict = mark.get("files", {})
    same_rules = mark.get("rules") == rules
    same_window = mark.get("window") == today.isoformat()
    files: dict[str, dict] = {}
    read_now: dict[str, list[_Event]] = {}  # the files read this time, and their events
    unreadable = []
    kept = 0
    for name, file in _files(path):
        stamp = _stamp(file)
        if stamp is None:
            continue  # gone while the folder was read
        before = old_files.get(name)
        if (
            before is not None
            and same_rules
            and [before.get("m"), before.get("s")] == list(stamp)
            and (same_window or not before.get("later"))
        ):
            files[name] = before
            kept += 1
            continue
        try:
            found, later = read_events(file.read_bytes(), zone, *window)
        except (CalendarError, OSError) as exc:
            if not path.is_dir():
                raise CalendarError(f"cannot read {source}: {exc}") from None
            unreadable.append(name)
            if before is not None:
                files[name] = before  # a file mid-write: what it gave last time stands
            continue
        read_now[name] = found
        files[name] = {"m": stamp[0], "s": stamp[1], "later": later, "events": {}, "skipped": []}
    counts = {"scheduled": 0, "moved": 0, "cancelled": 0, "unchanged": 0}
    changes: list[SyncedSession] = []
    # The sessions the files read this time gave last time, and those they give now.
    given_before: dict[tuple[str, int], list] = {}
    for name in read_now:
        for key, (at, minutes, client_ids) in old_files.get(name, {}).get("events", {}).items():
            for cid in client_ids:
                given_before[(key, cid)] = [at, minutes]
    given_now: set[tuple[str, int]] = set()
    for name, events in read_now.items():
        for event in events:
            client_ids = clients.of(event, by_summary)
            if not client_ids:
                # A cancelled event of no client's is no session either way: not counted.
                if not event.cancelled and event.uid not in files[name]["skipped"]:
                    files[name]["skipped"].append(event.uid)
                continue
            for cid in client_ids:
                given_now.add((event.key, cid))
                if event.cancelled:
                    done = _cancel(coach, event.key, cid, clients, now, event.summary,
                                   future_only=False)  # fmt: skip
                else:
                    before = given_before.get((event.key, cid))
                    done = _bring_in_step(coach, event, cid, clients, before)
                _count(counts, changes, done)
            if not event.cancelled:
                files[name]["events"][event.key] = [
                    event.start.isoformat(" "),
                    event.minutes,
                    list(client_ids),
                ]
    # Gone from the files read this time (deleted, taken out of a series, or the client
    # taken off the event), or gone with their file: the sessions still to come are
    # cancelled; those past are left for the coach to record.
    gone = set(given_before) - given_now
    for name in set(old_files) - set(files):
        for key, (_at, _minutes, client_ids) in old_files[name].get("events", {}).items():
            gone.update((key, cid) for cid in client_ids)
    for key, cid in sorted(gone):
        done = _cancel(coach, key, cid, clients, now, "", future_only=True)
        _count(counts, changes, done)
    new_mark = {
        "format": MARK_FORMAT,
        "window": today.isoformat(),
        "rules": rules,
        "files": files,
    }
    unmatched = {uid for kept_file in files.values() for uid in kept_file.get("skipped", ())}
    CalendarSource.update(mark=json.dumps(new_mark, sort_keys=True), synced_at=now).where(
        CalendarSource.id == row.id
    ).execute()
    if dry_run:  # the sessions it shows are rolled back: no id to give
        changes = [replace(c, session_id=None) if c.action == "scheduled" else c for c in changes]
    return SourceResult(
        source=source,
        path=str(path),
        skipped=len(unmatched),
        files_read=len(read_now),
        files_unchanged=kept,
        unreadable=tuple(unreadable),
        changes=tuple(changes),
        **counts,
    )


def _count(counts: dict[str, int], changes: list[SyncedSession], done) -> None:
    if done is None:
        return
    if done == "unchanged":
        counts["unchanged"] += 1
        return
    counts[done.action] += 1
    changes.append(done)


def _linked(coach: Coach, key: str, client_id: int) -> Session | None:
    return Session.get_or_none(
        (Session.coach == coach) & (Session.client == client_id) & (Session.calendar_key == key)
    )


def _bring_in_step(coach, event: _Event, client_id: int, clients: _Clients, before):
    """Make the event's session for this client, or move it with the event."""
    session = _linked(coach, event.key, client_id)
    if session is None:
        try:
            with db.atomic():  # a savepoint: a refused insert leaves the sync going on
                session = Session.create(
                    coach=coach,
                    client=client_id,
                    scheduled_start=event.start,
                    duration_minutes=event.minutes,
                    stage=clients.stages.get(client_id),
                    calendar_key=event.key,
                )
        except IntegrityError:
            # Made meanwhile by another sync (of another calendar holding the same event).
            return "unchanged"
        return _synced("scheduled", session.id, event, client_id, clients)
    if session.status != SessionStatus.SCHEDULED:
        return "unchanged"  # held, cancelled or missed: what happened stays
    if (session.scheduled_start, session.duration_minutes) == (event.start, event.minutes):
        return "unchanged"
    if before == [event.start.isoformat(" "), event.minutes]:
        return "unchanged"  # the calendar did not change; the coach moved the session
    try:
        reschedule_session(
            coach,
            session.id,
            start=event.start,
            duration_minutes=event.minutes,
            version=session.version,
        )
    except ChangedElsewhere:
        return "unchanged"
    return _synced("moved", session.id, event, client_id, clients)


def _cancel(coach, key: str, client_id: int, clients: _Clients, now, summary, *, future_only):
    session = _linked(coach, key, client_id)
    if session is None:
        return None
    if session.status != SessionStatus.SCHEDULED or (future_only and session.scheduled_start < now):
        return "unchanged"
    try:
        set_session_status(coach, session.id, SessionStatus.CANCELLED, version=session.version)
    except ChangedElsewhere:
        return "unchanged"
    return SyncedSession(
        "cancelled", session.id, client_id, clients.names.get(client_id, ""),
        session.scheduled_start, session.duration_minutes, key, summary,
    )  # fmt: skip


def _synced(action, session_id, event: _Event, client_id, clients: _Clients) -> SyncedSession:
    return SyncedSession(
        action, session_id, client_id, clients.names[client_id], event.start, event.minutes,
        event.key, event.summary,
    )  # fmt: skip
