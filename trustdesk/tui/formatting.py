"""How the screens write dates, counts and what people typed, so each reads the same everywhere."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from rich.text import Text

from trustdesk import config
from trustdesk.literal import visible

BARS = "▁▂▃▄▅▆▇█"


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


def day(
    value: dt.date | dt.datetime | None,
    today: dt.date | None = None,
    *,
    weekday: bool | None = None,
    clock: bool = False,
    short_year: bool = False,
) -> str:
    """A date as every screen writes it: 'Wed 02 Dec', 'Wed 02 Dec 2025'; nothing for no date.

    The year is shown only when it is not this year (`today`, else the app's clock), and
    `clock` adds the time: 'Wed 02 Dec 10:00'. A table column short of room asks for
    `short_year`: no weekday unless asked for, and another year as '25' ('02 Dec 25').
    """
    if value is None:
        return ""
    if today is None:
        today = config.today()
    if weekday is None:
        weekday = not short_year
    shape = "%a %d %b" if weekday else "%d %b"
    if value.year != today.year:
        shape += " %y" if short_year else " %Y"
    if clock:
        shape += " %H:%M"
    return value.strftime(shape)


def percent(value: int | None) -> str:
    return "—" if value is None else f"{value}%"


def literal(value: str, style: str = "") -> Text:
    """What a person typed, on one line: no markup, control characters made visible."""
    return Text(visible(value), style=style, no_wrap=True, overflow="ellipsis", end="")


def paragraphs(value: str) -> Text:
    """Longer text keeps its line breaks; every other control character is made visible."""
    lines = value.replace("\r\n", "\n").replace("\t", "    ").split("\n")
    return Text("\n".join(visible(part) for part in lines), end="")
