"""Dates as coaches type them: `today`, `tomorrow`, `+3`, `+2w`, `fri`, `3 dec`, `3 Dec 2026`,
ISO. One reader for every date field of the app and every date option of the command line,
so a form and a script agree on what "fri" means.

A form like `03/12` reads as 3 December in most of the world and 12 March in the US; it is
refused with both readings spelled out, never guessed. Small and without dependencies: it
is imported by the command line, which must start fast.
"""

from __future__ import annotations

import datetime as dt
import re

from trustdesk.trust.common import ActionError

MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EXAMPLES = "today, tomorrow, +3, +2w, fri, 3 dec, 3 Dec 2026 or 2026-12-03"

_RELATIVE = re.compile(r"([+-])\s*(\d{1,4})\s*(d|days?|w|weeks?|m|months?)?")
_NUMERIC = re.compile(r"(\d{1,2})\s*([/.-])\s*(\d{1,2})(?:\s*[/.-]\s*(\d{2}|\d{4}))?")
_TIME = re.compile(r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm)?")


class DateError(ActionError):
    """A date or time that cannot be read as typed; the message says how to type it."""


def _month(word: str) -> int | None:
    word = word.rstrip(".").casefold()
    if len(word) < 3:
        return None
    for number, name in enumerate(MONTHS, start=1):
        if name.startswith(word) or (word == "sept" and number == 9):
            return number
    return None


def _weekday(word: str) -> int | None:
    word = word.rstrip(".").casefold()
    if len(word) < 2:
        return None
    matches = [n for n, name in enumerate(WEEKDAYS) if name.startswith(word)]
    return matches[0] if len(matches) == 1 else None


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise DateError("that date is out of range")  # pragma: no cover - 28 always exists


def _nearest(today: dt.date, month: int, day: int) -> dt.date:
    """A day and month without a year: the one nearest today (last December, in January)."""
    candidates = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidates.append(dt.date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        raise DateError(f"there is no {day} {MONTHS[month - 1].capitalize()}")
    return min(candidates, key=lambda c: (abs((c - today).days), c < today))


def _calendar(year: int, month: int, day: int, text: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise DateError(f"{text!r} is not a day of the calendar") from None


def parse_day(text: str, today: dt.date) -> dt.date:
    """The day `text` names, counted from `today`; DateError in one line when it names none."""
    raw = text
    text = " ".join(text.strip().casefold().replace(",", " ").split())
    if not text:
        raise DateError(f"no date given; type one of {EXAMPLES}")
    if text in ("today", "now", "tod"):
        return today
    if text in ("tomorrow", "tmr", "tom"):
        return today + dt.timedelta(days=1)
    if text == "yesterday":
        return today - dt.timedelta(days=1)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    relative = _RELATIVE.fullmatch(text)
    if relative:
        sign, amount, unit = relative.groups()
        n = int(amount) * (1 if sign == "+" else -1)
        unit = (unit or "d")[0]
        try:
            if unit == "m":
                return _add_months(today, n)
            return today + dt.timedelta(days=n * (7 if unit == "w" else 1))
        except OverflowError:
            raise DateError(f"{raw!r} is out of range") from None
    words = text.split()
    if words[0] == "next" and len(words) == 2 and _weekday(words[1]) is not None:
        words = words[1:]
    if len(words) == 1 and _weekday(words[0]) is not None:
        ahead = (_weekday(words[0]) - today.weekday()) % 7 or 7
        return today + dt.timedelta(days=ahead)
    spelled = _spelled_date(words, today, raw)
    if spelled is not None:
        return spelled
    numeric = _NUMERIC.fullmatch(text)
    if numeric:
        return _numeric(numeric, raw)
    raise DateError(f"{raw!r} is not a date; type one of {EXAMPLES}")


def _spelled_date(words: list[str], today: dt.date, raw: str) -> dt.date | None:
    """`3 dec`, `dec 3`, `3 december 2026`, `wed 3 dec` (a weekday in front is checked)."""
    weekday = None
    if len(words) >= 3 and _weekday(words[0]) is not None:
        weekday, words = _weekday(words[0]), words[1:]
    if len(words) not in (2, 3):
        return None
    day_word, month_word = words[0], words[1]
    if _month(day_word) is not None and words[1].rstrip("stndrh").isdigit():
        day_word, month_word = words[1], words[0]
    day_digits = day_word.removesuffix("st").removesuffix("nd").removesuffix("rd")
    day_digits = day_digits.removesuffix("th")
    month = _month(month_word)
    if month is None or not day_digits.isdigit():
        return None
    day = int(day_digits)
    if len(words) == 3:
        if not (words[2].isdigit() and len(words[2]) == 4):
            return None
        found = _calendar(int(words[2]), month, day, raw)
    else:
        found = _nearest(today, month, day)
    if weekday is not None and found.weekday() != weekday:
        raise DateError(
            f"{raw!r}: {found.day} {MONTHS[found.month - 1][:3].capitalize()} {found.year} "
            f"is a {WEEKDAYS[found.weekday()].capitalize()}"
        )
    return found


def _numeric(match: re.Match, raw: str) -> dt.date:
    first, _separator, second, year_text = match.groups()
    a, b = int(first), int(second)
    if year_text is None:
        raise DateError(
            f"{raw!r} has no year and could be read two ways; "
            f"type it as {_words(a, b)} (or {EXAMPLES})"
        )
    year = int(year_text)
    if len(year_text) == 2:
        year += 2000
    readings = []
    for day, month in ((a, b), (b, a)):
        try:
            readings.append(dt.date(year, month, day))
        except ValueError:
            continue
    if not readings:
        raise DateError(f"{raw!r} is not a day of the calendar")
    if len(set(readings)) > 1:
        one, other = readings
        raise DateError(
            f"{raw!r} could be {_long(one)} or {_long(other)}; type it as "
            f"{one.day} {MONTHS[one.month - 1][:3]} {one.year} or {one.isoformat()}"
        )
    return readings[0]


def _words(a: int, b: int) -> str:
    readings = []
    for day, month in ((a, b), (b, a)):
        if 1 <= month <= 12 and 1 <= day <= 31:
            readings.append(f"{day} {MONTHS[month - 1][:3]}")
    return " or ".join(dict.fromkeys(readings)) or "3 dec"


def _long(day: dt.date) -> str:
    return f"{day.day} {MONTHS[day.month - 1].capitalize()} {day.year}"


def parse_time(text: str) -> dt.time:
    """`10:00`, `9.30`, `14h15`, `9am`, `2:30pm`."""
    found = _TIME.fullmatch(text.strip().casefold())
    if not found:
        raise DateError(f"{text!r} is not a time; type it as 10:00, 9.30 or 2:30pm")
    hours, minutes, half = found.groups()
    hour, minute = int(hours), int(minutes or 0)
    if half:
        if not 1 <= hour <= 12:
            raise DateError(f"{text!r} is not a time: {hour} is not an hour on a 12-hour clock")
        hour = hour % 12 + (12 if half == "pm" else 0)
    elif minutes is None:
        raise DateError(f"{text!r} is not a time; type it as {hour}:00")
    if hour > 23 or minute > 59:
        raise DateError(f"{text!r} is not a time of day")
    return dt.time(hour, minute)


def parse_moment(text: str, today: dt.date) -> dt.datetime:
    """A day and a time, `fri 10:00`, `3 dec 9.30`, `2026-12-03 14:00` or ISO `2026-12-03T14:00`."""
    raw = text.strip()
    try:
        value = dt.datetime.fromisoformat(raw)
        if "T" in raw.upper() or " " in raw:
            return value.replace(second=0, microsecond=0, tzinfo=None)
    except ValueError:
        pass
    day_part, _, time_part = raw.rpartition(" ")
    if not day_part:
        raise DateError(f"{raw!r} needs a day and a time, e.g. 'fri 10:00' or '2026-12-03 14:00'")
    return dt.datetime.combine(parse_day(day_part, today), parse_time(time_part))


def shown_day(
    value: dt.date | dt.datetime | None,
    today: dt.date,
    *,
    weekday: bool | None = None,
    clock: bool = False,
    short_year: bool = False,
) -> str:
    """A date as trustdesk writes it everywhere: 'Wed 02 Dec', 'Wed 02 Dec 2025'; "" for none.

    The year only when it is not this year; `clock` adds the time ('Wed 02 Dec 10:00'). A
    table column short of room asks for `short_year`: no weekday unless asked for, and
    another year as '25' ('02 Dec 25').
    """
    if value is None:
        return ""
    if weekday is None:
        weekday = not short_year
    shape = "%a %d %b" if weekday else "%d %b"
    if value.year != today.year:
        shape += " %y" if short_year else " %Y"
    if clock:
        shape += " %H:%M"
    return value.strftime(shape)
