"""Words and small pictures for the screens, so that meaning never rests on colour alone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

STATE_WORDS = {
    "quiet": "!! quiet",
    "due": "!  due",
    "ok": "   ok",
    "snoozed": "z snoozed",
    None: "",
}
STATUS_WORDS = {
    "active": "active",
    "paused": "paused",
    "completed": "completed",
    "prospect": "prospect",
}
BARS = "▁▂▃▄▅▆▇█"


def state_word(state: str | None) -> str:
    return STATE_WORDS.get(state, state or "")


def sparkline(counts: Sequence[int]) -> str:
    """Twelve weeks of contact in twelve characters; an empty week is a low dot."""
    peak = max(counts, default=0)
    if peak == 0:
        return "·" * len(counts)
    out = []
    for n in counts:
        if n == 0:
            out.append("·")
        else:
            out.append(BARS[min(len(BARS) - 1, (n * len(BARS) - 1) // peak)])
    return "".join(out)


def days(n: int | None) -> str:
    if n is None:
        return ""
    return f"{n}d"


def day(value: dt.date | None) -> str:
    return "" if value is None else f"{value:%d %b %Y}"


def short_day(value: dt.date | dt.datetime | None, today: dt.date) -> str:
    """'Tue 17 Mar' this year, '17 Mar 2027' otherwise."""
    if value is None:
        return ""
    if value.year == today.year:
        return f"{value:%a %d %b}"
    return f"{value:%d %b %Y}"


def percent(value: int | None) -> str:
    return "—" if value is None else f"{value}%"
