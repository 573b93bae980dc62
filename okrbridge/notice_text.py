"""What a silent key result's owner is told: pure text from the KR, why it is silent, and what to do.

The words depend on why the KR is silent: a manual KR waits for a check-in; a Jira-backed KR whose
last sync failed says what Jira answered; any other Jira-backed KR points at the sync and its
query. The paragraphs are plain text; the Jira connector puts them in the deployment's format.
"""

from __future__ import annotations

from okrbridge.domain import KeyResult, SourceKind


def _what_to_do(kr: KeyResult, failure: str | None) -> str:
    """The one thing the owner can do about this silence."""
    if kr.source.kind is SourceKind.MANUAL:
        return (f'What to do: record its current value with a check-in, e.g. `okrbridge checkin {kr.id} '
                f'VALUE --note "why"`; the stale mark lifts with it.')
    if failure:
        return (f"What to do: the last sync could not measure it. Jira answered: {failure}. Fix its "
                f"source in okrs.toml (`okrbridge validate`, then `okrbridge sync --dry-run` shows the "
                f"queries); the next sync stores a value and the stale mark lifts.")
    asked = "; ".join(kr.source.jqls) or kr.source.issue or kr.source.kpi or kr.source.kind.value
    return (f"What to do: check that okrbridge's syncs are running (the daemon's log, or `okrbridge sync`) "
            f"and that its source still answers in Jira ({asked}); the stale mark lifts with the next value.")


def notice_paragraphs(kr: KeyResult, reason: str, *, failure: str | None = None,
                      kr_url: str | None = None) -> list[str]:
    """The comment telling `kr`'s owner it is silent: the KR, its owner, since when (`reason`, the
    stale check's words), what to do, where its page is, and that this is said once."""
    owner = f"Owner: {kr.owner}." if kr.owner else "Owner: none is named in okrs.toml."
    paragraphs = [f'okrbridge: key result {kr.id} "{kr.title}" is shown as stale everywhere it appears: '
                  f"{reason}.", owner, _what_to_do(kr, failure)]
    if kr_url:
        paragraphs.append(f"Its page: {kr_url}")
    paragraphs.append("okrbridge says this once per silence: it says so again only if a value arrives "
                      "and the key result then falls silent again.")
    return paragraphs
