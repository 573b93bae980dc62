"""`okrs.toml` and check-in files -> validated domain objects, with every problem named precisely.

Loading never stops at the first problem: TOML shape and types are checked with pydantic per entry
(the models are in catalog_schema.py), then the meaning (numbers a measure needs, fields a source
needs, ids, parents, KPI references, cycles) is checked by hand (catalog_reader.py), and finally
the OKRs are linted (see lint.py). Each `Problem` names the file, the line, the objective/KR/KPI
id and the field. tomllib gives no positions, so tomlpos.py reads the (already valid) source text
once to find the line of every table and key — only when a problem has to be placed: a clean
10,000-KR file is not scanned, and its lint warnings are worked out only when someone asks for
them (`LoadedCatalog.warnings`). The file format is documented in docs/okrs-format.md.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from okrbridge.cycles import FiscalCalendar, InstantOutOfRange
from okrbridge.domain import Catalog, KeyResult, Kpi, SourceKind, checked_value
from okrbridge.lint import Problem, lint
from okrbridge.tomlpos import Loc, dotted
from okrbridge.tomlread import (
    MAX_NESTING,
    TomlFileError,
    decode_toml_text,
    nesting_too_deep,
    read_regular_bytes,
)

if TYPE_CHECKING:  # the readers load with pydantic's models, only when a file is parsed: a command that
    # takes the recorded catalog from the store (grades, history) never needs them
    from okrbridge.catalog_reader import EntryReader, Lines

__all__ = ["CatalogError", "CatalogText", "Checkin", "LoadedCatalog", "Problem", "bundled_sample",
           "check_catalog_file", "load_catalog", "load_checkins", "read_catalog_text"]

MAX_FILE_BYTES = 16 * 1024 * 1024
"""The largest OKR or check-in file read (10,000 key results take about 3 MB)."""


class CatalogError(ValueError):
    """An OKR or check-in file that cannot be loaded; `problems` lists every error found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class LoadedCatalog:
    """A validated catalog, the calendar its cycles are read with, and the warnings found on the way.

    `build` makes the catalog, on the first read of `catalog` (a parsed file's is already made; a
    recorded one is built from the store's data only if something needs all of it).
    `find_subject`, when given, finds one KR or KPI without building the catalog: `history` of one
    key result need not build 10,000 (once `catalog` is built, lookups go to it).
    `digest` is the SHA-256 of the file's bytes (None for a catalog built some other way): the store
    keeps it beside the catalog it records, so an unchanged file is not recorded again.
    `find_warnings` works the lint warnings out, on the first read of `warnings`.
    """

    build: Callable[[], Catalog]
    find_warnings: Callable[[], list[Problem]] = list
    digest: str | None = None
    find_subject: Callable[[str], KeyResult | Kpi | None] | None = None

    @cached_property
    def catalog(self) -> Catalog:
        """The validated OKRs and KPIs."""
        return self.build()

    def subject(self, subject_id: str) -> KeyResult | Kpi | None:
        """The KR or KPI with this id, or None (each id is found once: history scores every value)."""
        if self.find_subject is None or "catalog" in self.__dict__:
            return self.catalog.key_result(subject_id) or self.catalog.kpi(subject_id)
        found = self._found_subjects
        if subject_id not in found:
            found[subject_id] = self.find_subject(subject_id)
        return found[subject_id]

    @cached_property
    def _found_subjects(self) -> dict[str, KeyResult | Kpi | None]:
        """The subjects `find_subject` found, by id."""
        return {}

    @cached_property
    def warnings(self) -> list[Problem]:
        """The lint warnings, in file order, each placed on its line."""
        return self.find_warnings()

    @property
    def calendar(self) -> FiscalCalendar:
        """The catalog's fiscal calendar (its one home is `Catalog.calendar`)."""
        return self.catalog.calendar


@dataclass(frozen=True)
class Checkin:
    """A manually recorded value of a key result or KPI."""

    subject_id: str
    value: float
    at: datetime
    note: str = ""


def bundled_sample(name: str) -> Path:
    """The path of a file shipped in `okrbridge/samples/` (e.g. "okrs.toml")."""
    return Path(str(resources.files("okrbridge").joinpath("samples", name)))


# --------------------------------------------------------------------------- files


_TOML_AT = re.compile(r"\s*\((?:at line ([0-9]+), column [0-9]+|at end of document)\)$")


@dataclass(frozen=True)
class CatalogText:
    """The text of an OKR file as read once, and the SHA-256 of its bytes."""

    path: Path
    text: str
    digest: str


def read_catalog_text(path: Path) -> CatalogText:
    """The file's text and content hash; CatalogError (one problem) when it cannot be read as text.

    Only the bytes are read, decoded and hashed: nothing is parsed (`load_catalog` does that, after
    checking the nesting tomllib could not survive), so an unchanged file costs one hash.
    """
    file = str(path)
    try:
        data = read_regular_bytes(path, max_bytes=MAX_FILE_BYTES)
        text = decode_toml_text(data)
    except FileNotFoundError as error:
        raise CatalogError([Problem("error", file, None, None, None,
                                    f"cannot read the file: {error.strerror}")]) from error
    except TomlFileError as error:
        raise CatalogError([Problem("error", file, error.line, None, None, error.message)]) from error
    return CatalogText(path, text, hashlib.sha256(data).hexdigest())


def _parse(path: Path,
           given: CatalogText | None = None) -> tuple[dict[str, Any] | None, Lines, list[Problem]]:
    """The file's TOML, its key positions (scanned on use), and a problem if it cannot be read or parsed."""
    from okrbridge.catalog_reader import Lines

    file = str(path)
    try:
        text = (given or read_catalog_text(path)).text
    except CatalogError as error:
        return None, Lines(""), error.problems
    positions = Lines(text)
    deep = nesting_too_deep(text, MAX_NESTING)
    if deep is not None:
        return None, positions, [Problem("error", file, deep, None, None,
                                         f"arrays or inline tables nest more than {MAX_NESTING} levels deep")]
    try:
        return tomllib.loads(text), positions, []
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        match = _TOML_AT.search(message)
        line = int(match[1]) if match and match[1] else text.count("\n") + 1
        found = positions.positions
        if found.redefined and "overwrite" in message:
            # tomllib places a duplicated key at the end of the document; the scanner knows where it is
            loc, line = found.redefined[0]
            message = f"{dotted(loc)} is defined twice (first at line {found.lines[loc]})"
        elif match:
            message = message[:match.start()]
        return None, positions, [Problem("error", file, line, None, None, f"invalid TOML: {message}")]


def _by_line(problems: Iterable[Problem]) -> list[Problem]:
    """Problems in file order; those without a line last."""
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0))


def _read_catalog(path: Path, given: CatalogText | None = None) -> tuple[LoadedCatalog | None, list[Problem]]:
    """The catalog (None when there are errors) and every error; with no error, the problems are
    left to `LoadedCatalog.warnings`, which lints the catalog on first use."""
    from okrbridge.catalog_reader import CatalogReader

    data, positions, problems = _parse(path, given)
    if data is None:
        return None, problems
    reader = CatalogReader(str(path), positions)
    catalog = reader.read(data)
    if reader.errors:
        return None, _by_line(reader.problems)

    def warnings() -> list[Problem]:
        """The reader's warnings and the lint warnings, each placed on its line, in file order."""
        found = list(reader.problems)
        for warning in lint(catalog):
            at = reader.where.get(warning.subject or "", ())
            loc = tuple(warning.field.split(".")) if warning.field else ()
            line = positions.line_of((*at, *loc)) if at else None
            found.append(replace(warning, file=str(path), line=line))
        return _by_line(found)

    digest = given.digest if given is not None else hashlib.sha256(positions.text.encode("utf-8")).hexdigest()
    return LoadedCatalog(lambda: catalog, warnings, digest), []


def load_catalog(path: Path, text: CatalogText | None = None) -> LoadedCatalog:
    """Load and validate an okrs.toml (or its `text` as already read); raises CatalogError listing
    every error found."""
    loaded, problems = _read_catalog(path, text)
    if loaded is None:
        raise CatalogError([p for p in problems if p.is_error])
    return loaded


def check_catalog_file(path: Path) -> list[Problem]:
    """Every error and warning in an okrs.toml, by line; never raises for what the file contains.

    Lint warnings are only computed once the file has no errors: they judge a catalog, and a
    half-loaded one would give misleading advice.
    """
    loaded, problems = _read_catalog(path)
    return loaded.warnings if loaded is not None else problems


def load_checkins(path: Path, catalog: Catalog | None = None) -> list[Checkin]:
    """The `[[checkin]]` entries of a file, in file order; raises CatalogError listing every error.

    Each entry names `kr` or `kpi` (one of them), a `value`, a date or date-time `at` and an optional
    `note`. With a catalog, the subject must exist and take its values from a manual source.
    """
    from okrbridge import catalog_schema as schema
    from okrbridge.catalog_reader import EntryReader

    data, positions, problems = _parse(path)
    if data is None:
        raise CatalogError(problems)
    reader = EntryReader(str(path), positions)
    top = reader.validate(schema._CheckinFileIn, data, None, ()) or schema._CheckinFileIn()
    found: list[Checkin] = []
    for i, raw in enumerate(top.checkin):
        at: Loc = ("checkin", i)
        named = raw.get("kr", raw.get("kpi"))
        subject = named if isinstance(named, str) and named else dotted(at)
        entry = reader.validate(schema._CheckinIn, raw, subject, at)
        if entry is None:
            continue
        if (entry.kr is None) == (entry.kpi is None):
            reader.report(subject, at, ("kr",), "name exactly one of kr or kpi")
            continue
        subject_id, key = (entry.kr, "kr") if entry.kr is not None else (str(entry.kpi), "kpi")
        try:
            checked_value(entry.value)
        except ValueError as error:
            reader.report(subject, at, ("value",), str(error))
            continue
        try:
            moment = schema.checkin_moment(entry.at)
        except InstantOutOfRange as error:
            reader.report(subject, at, ("at",), str(error))
            continue
        except ValueError:
            reader.report(subject, at, ("at",), f"{entry.at!r} is not a date (2026-02-01) or a date-time "
                          "(2026-02-01T09:30:00Z)")
            continue
        if catalog is not None:
            _check_subject(reader, catalog, subject_id, key, at)
        found.append(Checkin(subject_id, entry.value, moment, entry.note))
    if reader.errors:
        raise CatalogError(_by_line(reader.errors))
    return found


def _check_subject(reader: EntryReader, catalog: Catalog, subject_id: str, key: str, at: Loc) -> None:
    """A check-in must name a KR (or KPI) of the catalog whose values come from check-ins."""
    target = catalog.key_result(subject_id) if key == "kr" else catalog.kpi(subject_id)
    what = "key result" if key == "kr" else "KPI"
    if target is None:
        reader.report(subject_id, at, (key,), f"unknown {what} {subject_id!r}")
    elif target.source.kind is not SourceKind.MANUAL:
        reader.report(subject_id, at, (key,), f"{what} {subject_id} takes its values from a "
                      f"{target.source.kind.value} source; check-ins are only for manual ones")
