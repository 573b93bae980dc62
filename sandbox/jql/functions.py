"""Dates in JQL: absolute literals, relative periods (`-7d`, `"4w 2d"`) and the date functions.

Everything is computed from the sandbox clock (`JqlContext.now`) in the context's time zone, the way
Jira computes from the server clock in the searching user's zone. Results are aware UTC datetimes.

Jira facts mirrored here (Atlassian's "Advanced searching - functions reference"):
- a date without a time means 00:00 of that day; formats `yyyy/MM/dd [HH:mm]` and `yyyy-MM-dd [HH:mm]`;
- relative periods are `(+/-)nn(y|M|w|d|h|m)`, several may be combined (`"4w 2d"`), and count from now;
- `startOfX(inc)` / `endOfX(inc)` take an optional increment `(+/-)nn(y|M|w|d|h|m)`; without a unit
  the increment is in the function's own period (`startOfMonth(-1)` is last month's start);
- weeks start on Sunday (Jira's default locale); `endOfX` is the last millisecond of the period.
`startOfQuarter`/`endOfQuarter` are not stock Jira Cloud (they come from apps) but the bot uses them;
quarters are calendar quarters and accept the extra unit `q`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox.jql.errors import JqlError

# Units from smallest to largest. `M` (month) and `m` (minute) differ only by case, as in Jira.
_UNIT_SIZE = {"m": 0, "h": 1, "d": 2, "w": 3, "M": 4, "q": 5, "y": 6}
_UNIT_ALIASES = {"m": "m", "M": "M", "h": "h", "H": "h", "d": "d", "D": "d", "w": "w", "W": "w",
                 "q": "q", "Q": "q", "y": "y", "Y": "y"}
_DIGITS = frozenset("0123456789")

# function name (lower case) -> (natural unit, is_end); `now` has no period.
_PERIOD_FUNCTIONS: dict[str, tuple[str, bool]] = {
    "startofday": ("d", False), "endofday": ("d", True),
    "startofweek": ("w", False), "endofweek": ("w", True),
    "startofmonth": ("M", False), "endofmonth": ("M", True),
    "startofquarter": ("q", False), "endofquarter": ("q", True),
    "startofyear": ("y", False), "endofyear": ("y", True),
}
DATE_FUNCTIONS = frozenset({"now", *_PERIOD_FUNCTIONS})

_VALID_DATE_FORMATS = (
    "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', "
    "or a period format e.g. '-5d', '4w 2d'."
)


@lru_cache(maxsize=64)
def zone(name: str) -> tzinfo:
    """The tzinfo for an IANA name; a bad name is a JqlError so a misconfigured user fails cleanly."""
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise JqlError(f"The time zone '{name}' is not known.") from exc


def as_utc(moment: datetime) -> datetime:
    """Aware UTC datetime; naive values are taken as UTC (the model's convention)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def add_months(day: date, months: int) -> date:
    """Calendar month arithmetic, clamping the day (Jan 31 + 1 month = Feb 28/29)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise ValueError(f"year {year} is out of range")
    month += 1
    for last in (31, 30, 29):
        if day.day >= last:
            try:
                return day.replace(year=year, month=month, day=last)
            except ValueError:
                continue
    return day.replace(year=year, month=month, day=min(day.day, 28))


def shift(local: datetime, amount: int, unit: str) -> datetime:
    """Move an aware local datetime by `amount` units: calendar units keep wall-clock time, while
    hours and minutes are elapsed time (so DST changes do not distort `-4h`)."""
    if unit in ("m", "h"):
        delta = timedelta(minutes=amount) if unit == "m" else timedelta(hours=amount)
        tz = local.tzinfo
        return (local.astimezone(UTC) + delta).astimezone(tz)
    if unit == "d":
        return local + timedelta(days=amount)
    if unit == "w":
        return local + timedelta(weeks=amount)
    months = {"M": 1, "q": 3, "y": 12}[unit] * amount
    return datetime.combine(add_months(local.date(), months), local.timetz())


def _period_start(local: datetime, unit: str) -> datetime:
    """00:00 local time on the first day of the period (day/week/month/quarter/year) holding `local`."""
    day = local.date()
    if unit == "w":
        day -= timedelta(days=(day.weekday() + 1) % 7)  # Python's Monday=0; Jira's weeks start Sunday
    elif unit == "M":
        day = day.replace(day=1)
    elif unit == "q":
        day = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    elif unit == "y":
        day = date(day.year, 1, 1)
    return datetime.combine(day, time(0), tzinfo=local.tzinfo)


def _period_end(local: datetime, unit: str) -> datetime:
    """The last millisecond of the period holding `local`."""
    start = _period_start(local, unit)
    return _period_start(shift(start, 1, unit), unit) - timedelta(milliseconds=1)


def parse_period(text: str) -> list[tuple[int, str]] | None:
    """`-7d`, `+1M`, `4w 2d`, `-30m` -> [(amount, unit), ...] with the sign applied; None if not a period."""
    rest = text.strip()
    sign = 1
    if rest[:1] in ("+", "-"):
        sign = -1 if rest[0] == "-" else 1
        rest = rest[1:].lstrip()
    parts: list[tuple[int, str]] = []
    i = 0
    while i < len(rest):
        if rest[i].isspace():
            i += 1
            continue
        j = i
        while j < len(rest) and rest[j] in _DIGITS:
            j += 1
        if j == i or j >= len(rest) or rest[j] not in _UNIT_ALIASES:
            return None
        parts.append((sign * int(rest[i:j]), _UNIT_ALIASES[rest[j]]))
        i = j + 1
    return parts or None


def _digits(text: str, low: int, high: int) -> int | None:
    """`text` as an int when it is `low`..`high` ASCII digits long."""
    if low <= len(text) <= high and all(c in _DIGITS for c in text):
        return int(text)
    return None


def parse_absolute(text: str, tz: tzinfo) -> datetime | None:
    """`2026-05-01`, `2026/5/1`, `2026-05-01 13:30` in zone `tz` -> aware UTC; None if not such a date."""
    date_part, _, time_part = text.strip().partition(" ")
    separator = "-" if "-" in date_part else "/"
    pieces = date_part.split(separator)
    if len(pieces) != 3:
        return None
    year, month, day = _digits(pieces[0], 4, 4), _digits(pieces[1], 1, 2), _digits(pieces[2], 1, 2)
    if year is None or month is None or day is None:
        return None
    hour = minute = 0
    time_part = time_part.strip()
    if time_part:
        hh, colon, mm = time_part.partition(":")
        parsed_hour, parsed_minute = _digits(hh, 1, 2), _digits(mm, 2, 2)
        if not colon or parsed_hour is None or parsed_minute is None:
            return None
        hour, minute = parsed_hour, parsed_minute
    try:
        return datetime(year, month, day, hour, minute, tzinfo=tz).astimezone(UTC)
    except ValueError:
        return None


def date_value(text: str, field: str, now: datetime, tz: tzinfo) -> datetime:
    """A literal date operand (absolute or relative to `now`) as aware UTC, or Jira's format error."""
    absolute = parse_absolute(text, tz)
    if absolute is not None:
        return absolute
    period = parse_period(text)
    if period is not None:
        try:
            moment = as_utc(now).astimezone(tz)
            for amount, unit in period:
                moment = shift(moment, amount, unit)
            return moment.astimezone(UTC)
        except (OverflowError, ValueError):
            pass  # a period so large it leaves the calendar: Jira calls that an invalid date too
    raise JqlError(f"Date value '{text}' for field '{field}' is invalid. {_VALID_DATE_FORMATS}")


def _increment(name: str, argument: str, natural: str) -> tuple[int, str]:
    """A date function's `(+/-)nn[unit]` argument; the unit defaults to the function's period."""
    text = argument.strip()
    unit = natural
    if text and text[-1] in _UNIT_ALIASES:
        unit = _UNIT_ALIASES[text[-1]]
        text = text[:-1]
    sign = 1
    if text[:1] in ("+", "-"):
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    amount = _digits(text, 1, 9)
    if amount is None or (unit == "q" and natural != "q"):
        raise JqlError(
            f"Duration for function '{name}' should have the format (+/-)n(yMwdm), "
            "e.g -1M for one month earlier."
        )
    return sign * amount, unit


def check_arity(display: str, args: tuple[str, ...], low: int, high: int) -> None:
    """Jira's argument-count errors."""
    if low <= len(args) <= high:
        return
    if low == high:
        raise JqlError(f"Function '{display}' expected '{low}' arguments but got '{len(args)}'.")
    raise JqlError(
        f"Function '{display}' expected between '{low}' and '{high}' arguments but got '{len(args)}'."
    )


def date_function(display: str, args: tuple[str, ...], now: datetime, tz: tzinfo) -> datetime:
    """Evaluate now() / startOfX() / endOfX() (name in any case) at `now` in zone `tz`."""
    name = display.lower()
    if name == "now":
        check_arity(display, args, 0, 0)
        return as_utc(now)
    natural, is_end = _PERIOD_FUNCTIONS[name]
    check_arity(display, args, 0, 1)
    amount, unit = _increment(display, args[0], natural) if args else (0, natural)
    boundary = _period_end if is_end else _period_start
    local = as_utc(now).astimezone(tz)
    try:
        if _UNIT_SIZE[unit] >= _UNIT_SIZE[natural]:
            # Whole periods: move to the target period first, then take its boundary, so that
            # endOfMonth("+1M") is the true last day of next month rather than today's day number.
            result = boundary(shift(local, amount, unit), natural)
        else:
            # Finer units adjust the boundary itself: startOfMonth("+14d") is the 15th.
            result = shift(boundary(local, natural), amount, unit)
    except (OverflowError, ValueError) as exc:
        raise JqlError(f"The increment given to function '{display}' is out of range.") from exc
    return result.astimezone(UTC)


def local_date(moment: datetime, tz: tzinfo) -> date:
    """The calendar day of an instant in zone `tz` (how a date-only field such as duedate compares)."""
    return as_utc(moment).astimezone(tz).date()


def minute(moment: datetime) -> datetime:
    """An instant truncated to the minute, the resolution of JQL date literals (so a date-time
    compared with `=` matches within the minute)."""
    return moment.replace(second=0, microsecond=0)


def day_bounds(moment: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """Start and last millisecond (aware UTC) of the local day holding `moment` (for `ON`)."""
    local = as_utc(moment).astimezone(tz)
    return _period_start(local, "d").astimezone(UTC), _period_end(local, "d").astimezone(UTC)
