"""A subject's valued observations in time order, as compact arrays: what a grade reads. Pure, no IO.

Why: a year of hourly syncs gives a KR about 900 observations, and 10,000 KRs about nine million.
As `Reading` objects (a datetime, a value and an explanation decoder each) they fill gigabytes, and
every period of `grades --nested` would filter them all again. A `Series` holds the instants as
integer microseconds since the Unix epoch and the values as floats, sorted once; a grade's window
is then two binary searches, and a reading (with its explanation) is made only for the one graded.

Order is the order grading has always used: by instant, and among equal instants by position in
the sequence the readings came in (the later one is "the one stored last"). Readings without a
value are left out: grading skips them, so the last good value still grades.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from okrbridge.cycles import as_utc
from okrbridge.domain import Reading
from okrbridge.line_fit import LineSums

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """An instant as integer microseconds since the Unix epoch (naive datetimes are UTC)."""
    return (as_utc(moment) - EPOCH) // _MICROSECOND


def instant(us: int) -> datetime:
    """The aware UTC datetime of `micros(...)`."""
    return EPOCH + timedelta(microseconds=us)


class Observations(Protocol):
    """What grading reads of a subject's observations in a window `[not_before, before)`, none after
    `until`: the latest one (a `pick` its reading is made from) and the exact sums of the trend line
    through all of them. `Series` answers from every point; `MonthlyObservations` from month sums."""

    def last(self, *, not_before: datetime | None, before: datetime, until: datetime) -> int | None:
        """The pick of the latest observation in the window (of two at one instant, the one stored
        last); None when the window holds none."""
        ...

    def line(self, *, not_before: datetime | None, before: datetime, until: datetime) -> LineSums:
        """The least-squares sums of every observation in the window."""
        ...

    def reading(self, pick: int) -> Reading:
        """The observation `pick` as a Reading, its explanation included."""
        ...

    def detail_ref(self, pick: int) -> int | None:
        """The stored observation `pick` is (row id * 2 + kind), for reading explanations ahead; None
        when it is not from the store."""
        ...


class Series:
    """Valued observations of one subject: `times` (microseconds, ascending), `values`, and how to
    make the Reading at an index (`reading(i)`), which is the only place explanations are decoded;
    `refs`, when read from the store, names the stored observation of each index."""

    __slots__ = ("_make", "refs", "times", "values")

    def __init__(self, times: Sequence[int], values: Sequence[float], make: Callable[[int], Reading],
                 refs: Sequence[int] | None = None) -> None:
        self.times = times
        self.values = values
        self._make = make
        self.refs = refs

    @classmethod
    def of(cls, readings: Sequence[Reading]) -> Series:
        """The series of readings in any order (a stable sort by instant keeps the stored order of ties)."""
        valued = sorted((r for r in readings if r.value is not None), key=lambda r: as_utc(r.taken_at))
        values = array("d", [float(r.value) for r in valued if r.value is not None])
        return cls(array("q", [micros(r.taken_at) for r in valued]), values, valued.__getitem__)

    def __len__(self) -> int:
        """How many valued observations the series holds."""
        return len(self.times)

    def reading(self, index: int) -> Reading:
        """The observation at `index` as a Reading, its explanation included."""
        return self._make(index)

    def window(self, *, not_before: datetime | None, before: datetime, until: datetime) -> range:
        """The indexes of the observations in `[not_before, before)` and at or before `until`."""
        low = bisect_left(self.times, micros(not_before)) if not_before is not None else 0
        high = min(bisect_left(self.times, micros(before)), bisect_right(self.times, micros(until)))
        return range(low, max(low, high))

    def last(self, *, not_before: datetime | None, before: datetime, until: datetime) -> int | None:
        """The index of the latest observation in the window (see `Observations`)."""
        window = self.window(not_before=not_before, before=before, until=until)
        return window[-1] if window else None

    def line(self, *, not_before: datetime | None, before: datetime, until: datetime) -> LineSums:
        """The exact least-squares sums of the observations in the window."""
        window = self.window(not_before=not_before, before=before, until=until)
        return LineSums.of(self.times[window.start:window.stop], self.values[window.start:window.stop])

    def detail_ref(self, pick: int) -> int | None:
        """The stored observation at index `pick` (None for a series not read from the store)."""
        return self.refs[pick] if self.refs is not None else None

    def points(self, indexes: range) -> list[tuple[datetime, float]]:
        """The `(instant, value)` points at `indexes`, in time order."""
        return [(instant(self.times[i]), self.values[i]) for i in indexes]


def series_of(readings: Series | Sequence[Reading]) -> Series:
    """`readings` as a Series (a Series is taken as it is)."""
    return readings if isinstance(readings, Series) else Series.of(readings)


def observations_of(readings: Observations | Sequence[Reading]) -> Observations:
    """`readings` as Observations (a Series or MonthlyObservations is taken as it is)."""
    return Series.of(readings) if isinstance(readings, Sequence) else readings
