"""The practice report: what `trustdesk report` (and `trustdesk demo --no-tui`) prints.

Built from each habit's rules in a fixed number of queries, so a cron job on a large
practice costs the same as on a small one. The dashboard's numbers come from
`trust.dashboard`, not from here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from trustdesk.config import Settings
from trustdesk.literal import visible
from trustdesk.store.models import Coach
from trustdesk.store.states import CadenceState, SessionStatus
from trustdesk.trust.common import Rate, plural
from trustdesk.trust.contact import Cadence, cadence, cadence_counts
from trustdesk.trust.journey.progress import ProgramProgress, journey_progress
from trustdesk.trust.promises import (
    DueSoonPromise,
    FollowThrough,
    OverduePromise,
    Renegotiations,
    due_soon,
    follow_through,
    overdue_promises,
    renegotiations,
)
from trustdesk.trust.sessions import Punctuality, WeekSession, punctuality, sessions_this_week


@dataclass(frozen=True)
class PracticeReport:
    today: dt.date
    coach_name: str
    overdue: tuple[OverduePromise, ...]
    coach_follow_through: FollowThrough
    client_follow_through: FollowThrough
    punctuality: Punctuality
    due_for_contact: tuple[Cadence, ...]
    quiet: tuple[Cadence, ...]
    snoozed: int
    active_clients: int
    journey: tuple[ProgramProgress, ...] = ()
    this_week: tuple[WeekSession, ...] = ()
    awaiting_replies: tuple = ()
    due_soon: tuple[DueSoonPromise, ...] = ()
    due_soon_days: int = 7
    coach_renegotiations: Renegotiations | None = None
    client_renegotiations: Renegotiations | None = None
    fell: tuple = ()  # trust.contact.Fall: missed a session or a promise, no contact since

    @property
    def needs_attention(self) -> bool:
        """Something late or someone waiting on the coach: an overdue promise (either side's),
        a client due for contact or gone quiet, a client who fell. What is only due soon, or
        waits on the client (a prompt's reply), is not yet late: `report --quiet` stays silent.
        """
        return bool(self.overdue or self.due_for_contact or self.quiet or self.fell)


def build_report(coach: Coach, today: dt.date, settings: Settings) -> PracticeReport:
    # The due and the quiet are read as such; the rest of the active are only counted.
    cadences = cadence(coach, today, needing_contact=True)
    states = cadence_counts(coach, today)
    return PracticeReport(
        today=today,
        coach_name=coach.name,
        overdue=tuple(overdue_promises(coach, today)),
        # The report shows practice-wide rates only: no Rate per client is built.
        coach_follow_through=follow_through(
            coach, today, owner="coach", days=settings.follow_through_days, practice_only=True
        ),
        client_follow_through=follow_through(
            coach, today, owner="client", days=settings.follow_through_days, practice_only=True
        ),
        punctuality=punctuality(
            coach,
            today,
            grace_minutes=settings.punctuality_grace_minutes,
            practice_only=True,
        ),
        due_for_contact=tuple(c for c in cadences if c.state == CadenceState.DUE),
        quiet=tuple(c for c in cadences if c.state == CadenceState.QUIET),
        snoozed=states[CadenceState.SNOOZED],
        active_clients=sum(states.values()),
        journey=tuple(journey_progress(coach)),
        this_week=tuple(sessions_this_week(coach, today)),
        awaiting_replies=tuple(_awaiting_replies(coach, today)),
        due_soon=tuple(due_soon(coach, today, settings.due_soon_days)),
        due_soon_days=settings.due_soon_days,
        coach_renegotiations=renegotiations(
            coach, today, owner="coach", days=settings.follow_through_days
        ),
        client_renegotiations=renegotiations(
            coach, today, owner="client", days=settings.follow_through_days
        ),
        fell=tuple(_falls(coach, today)),
    )


def _falls(coach: Coach, today: dt.date) -> list:
    from trustdesk.trust.contact import falls

    return falls(coach, today)


def _awaiting_replies(coach: Coach, today: dt.date) -> list:
    from trustdesk.trust.prompts import awaiting_reply

    return awaiting_reply(coach, today)


def _rate_json(rate: Rate) -> dict[str, object]:
    return {"kept": rate.kept, "counted": rate.counted, "rate": rate.rate}


def _date(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _cadence_json(c: Cadence) -> dict[str, object]:
    return {
        "client_id": c.client_id,
        "client": c.client_name,
        "state": c.state,
        "last_touch_on": _date(c.last_touch_on),
        "days_since_touch": c.days_since_touch,
        "due_on": _date(c.due_on),
        "ideal_gap_days": c.ideal_gap_days,
        "max_gap_days": c.max_gap_days,
        "last_inbound_on": _date(c.last_inbound_on),
        "days_since_inbound": c.days_since_inbound,
    }


def _renegotiations_json(r: Renegotiations | None) -> dict[str, int]:
    return {"in_time": 0 if r is None else r.in_time, "total": 0 if r is None else r.total}


def _renegotiated_words(r: Renegotiations | None) -> str:
    if r is None or not r.total:
        return ""
    return f"; {r.in_time} of {plural(r.total, 'renegotiation')} made in time"


def report_json(report: PracticeReport) -> dict[str, object]:
    """A stable, documented shape for scripts: dates as YYYY-MM-DD, rates as 0..1 or null."""
    return {
        "today": report.today.isoformat(),
        "coach": report.coach_name,
        "active_clients": report.active_clients,
        "overdue_promises": [
            {
                "commitment_id": o.commitment_id,
                "client_id": o.client_id,
                "client": o.client_name,
                "owner": o.owner,
                "title": o.title,
                "promised_on": o.promised_on.isoformat(),
                "due_on": o.due_on.isoformat(),
                "days_overdue": o.days_overdue,
            }
            for o in report.overdue
        ],
        "due_soon_days": report.due_soon_days,
        "due_soon": [
            {
                "commitment_id": d.commitment_id,
                "client_id": d.client_id,
                "client": d.client_name,
                "owner": d.owner,
                "title": d.title,
                "promised_on": d.promised_on.isoformat(),
                "due_on": d.due_on.isoformat(),
                "days_left": d.days_left,
            }
            for d in report.due_soon
        ],
        "due_for_contact": [_cadence_json(c) for c in report.due_for_contact],
        "quiet": [_cadence_json(c) for c in report.quiet],
        "snoozed": report.snoozed,
        "follow_through": {
            "window_start": report.coach_follow_through.window_start.isoformat(),
            "window_end": report.coach_follow_through.window_end.isoformat(),
            "coach": _rate_json(report.coach_follow_through.practice),
            "clients": _rate_json(report.client_follow_through.practice),
            "renegotiated": {
                "coach": _renegotiations_json(report.coach_renegotiations),
                "clients": _renegotiations_json(report.client_renegotiations),
            },
        },
        "journey": [
            {
                "program": p.program_name,
                "active_clients": p.clients,
                "sessions_held": p.sessions_held,
                "sessions_typical": p.sessions_typical,
                "stages": [
                    {"stage": st.stage_name, "position": st.position, "clients": st.clients}
                    for st in p.stages
                ],
            }
            for p in report.journey
        ],
        "sessions_this_week": [
            {
                "session_id": w.session_id,
                "client_id": w.client_id,
                "client": w.client_name,
                "scheduled_start": w.scheduled_start.isoformat(sep=" "),
                "status": w.status,
            }
            for w in report.this_week
        ],
        "prompts_awaiting_reply": [
            {
                "client_id": a.client_id,
                "client": a.client_name,
                "prompt_id": a.prompt_id,
                "prompt": a.prompt_title,
                "sent_on": a.sent_on.isoformat(),
                "days_waiting": a.days_waiting,
            }
            for a in report.awaiting_replies
        ],
        "fell": [
            {
                "client_id": f.client_id,
                "client": f.client_name,
                "what": f.kind,
                "on": f.on.isoformat(),
                "promise": f.promise_title or None,
                "words": f.told(report.today),
            }
            for f in report.fell
        ],
        "punctuality": {
            "window_start": report.punctuality.window_start.isoformat(),
            "window_end": report.punctuality.window_end.isoformat(),
            "grace_minutes": report.punctuality.grace_minutes,
            **_rate_json(report.punctuality.practice),
        },
    }


def _percent(rate: Rate, empty: str = "n/a (nothing came due)") -> str:
    if rate.percent is None:
        return empty
    return f"{rate.percent}% ({rate.kept} of {rate.counted})"


def _listed(items, limit: int | None, line) -> list[str]:
    """Up to `limit` items as indented lines, then how many more there are."""
    lines = [f"  {line(item)}" for item in items[:limit]]
    if limit is not None and len(items) > limit:
        lines.append(f"  ... and {len(items) - limit} more")
    return lines


def _due_in(days_left: int) -> str:
    if days_left == 0:
        return "due today"
    if days_left == 1:
        return "due tomorrow"
    return f"due in {days_left} days"


def report_text(report: PracticeReport, *, limit: int | None = None) -> str:
    """Plain text for a terminal or a cron email; every typed text is made visible literally."""
    lines = [
        f"trustdesk report for {visible(report.coach_name)}, {report.today:%A %d %B %Y}",
        "",
        f"Your follow-through (last {report.coach_follow_through.window_days} days): "
        f"{_percent(report.coach_follow_through.practice)}"
        f"{_renegotiated_words(report.coach_renegotiations)}",
        f"Clients' follow-through: {_percent(report.client_follow_through.practice)}"
        f"{_renegotiated_words(report.client_renegotiations)}",
        f"Sessions on time (within {report.punctuality.grace_minutes} min): "
        f"{_percent(report.punctuality.practice, 'n/a (no sessions held)')}",
        "",
        f"Overdue promises: {len(report.overdue)}",
    ]
    lines += _listed(
        report.overdue,
        limit,
        lambda o: (
            f"{plural(o.days_overdue, 'day'):>8} late  "
            f"{'you' if o.owner == 'coach' else 'client':<6}  "
            f"{visible(o.client_name)}: {visible(o.title)}"
        ),
    )
    lines += [
        "",
        f"Due soon (within {plural(report.due_soon_days, 'day')}): {len(report.due_soon)}",
    ]
    lines += _listed(
        report.due_soon,
        limit,
        lambda d: (
            f"{_due_in(d.days_left):>13}  "
            f"{'you' if d.owner == 'coach' else 'client':<6}  "
            f"{visible(d.client_name)}: {visible(d.title)}"
        ),
    )
    lines += ["", f"Gone quiet (past their maximum gap): {len(report.quiet)}"]
    lines += _listed(
        report.quiet,
        limit,
        lambda c: (
            f"{plural(c.days_since_touch, 'day'):>8} since contact "
            f"(at most {c.max_gap_days})  {visible(c.client_name)}"
        ),
    )
    lines += ["", f"Due for contact: {len(report.due_for_contact)}"]
    lines += _listed(
        report.due_for_contact,
        limit,
        lambda c: (
            f"{plural(c.days_since_touch, 'day'):>8} since contact "
            f"(aim: every {c.ideal_gap_days})  {visible(c.client_name)}"
        ),
    )
    lines += ["", f"Fell, with no contact since: {len(report.fell)}"]
    lines += _listed(
        report.fell, limit, lambda f: f"{visible(f.client_name)}: {visible(f.told(report.today))}"
    )
    lines += ["", f"Sessions this week: {len(report.this_week)}"]
    lines += _listed(
        report.this_week,
        limit,
        lambda w: (
            f"{w.scheduled_start:%a %d %b %H:%M}  {visible(w.client_name)}"
            + ("" if w.status == SessionStatus.SCHEDULED else f"  ({w.status.replace('_', ' ')})")
        ),
    )
    lines += ["", f"Prompts awaiting a reply: {len(report.awaiting_replies)}"]
    lines += _listed(
        report.awaiting_replies,
        limit,
        lambda a: (
            f"{plural(a.days_waiting, 'day'):>8} waiting  {visible(a.client_name)}: "
            f"{visible(a.prompt_title)}"
        ),
    )
    if report.journey:
        lines += ["", "Journeys (active clients at each stage):"]
        for p in report.journey:
            stages = ", ".join(f"{visible(st.stage_name)} {st.clients}" for st in p.stages)
            lines.append(f"  {visible(p.program_name)}: {stages}")
    lines += [
        "",
        f"{plural(report.active_clients, 'active client')}, {report.snoozed} snoozed.",
    ]
    return "\n".join(lines) + "\n"
