"""How the screens write dates, counts and what people typed, so each reads the same everywhere."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from rich.text import Text

from trustdesk import config
from trustdesk.literal import visible
from trustdesk.trust.dates import shown_day

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
    """A date as every screen writes it (trust.dates.shown_day), today by the app's clock."""
    return shown_day(
        value,
        config.today() if today is None else today,
        weekday=weekday,
        clock=clock,
        short_year=short_year,
    )


def percent(value: int | None) -> str:
    return "—" if value is None else f"{value}%"


def literal(value: str, style: str = "") -> Text:
    """What a person typed, on one line: no markup, control characters made visible."""
    return Text(visible(value), style=style, no_wrap=True, overflow="ellipsis", end="")


def paragraphs(value: str) -> Text:
    """Longer text keeps its line breaks; every other control character is made visible."""
    lines = value.replace("\r\n", "\n").replace("\t", "    ").split("\n")
    return Text("\n".join(visible(part) for part in lines), end="")
