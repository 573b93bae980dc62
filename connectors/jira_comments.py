"""Comments on Jira issues: add one, in the body format each API version takes.

`JiraConnection.add_comment` delegates here. Cloud's REST v3 takes the body as an Atlassian
Document Format (ADF) document, one paragraph per given paragraph; Data Center's REST v2 takes a
string of wiki markup, the paragraphs separated by blank lines and the markup characters escaped,
so the text reads as written. A comment POST adds a comment each time it is sent, so the transport
never repeats it after a 5xx or a timeout (connectors.retry_policy: it is not idempotent); only a
429, which Jira did not act on, is waited out and sent again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from connectors.jira_site import JiraSite, check_key, expect_key

MAX_BODY_CHARS = 32_000
"""Jira refuses comment bodies past 32,767 characters; stay under it with room for the markup."""

_WIKI_MARKUP = re.compile(r"([\\*_{}\[\]^~|!])")


def adf_document(paragraphs: Sequence[str]) -> dict[str, Any]:
    """An ADF document of plain-text paragraphs (an empty paragraph has no text node: ADF forbids "")."""
    content = [{"type": "paragraph", "content": [{"type": "text", "text": text}] if text else []}
               for text in paragraphs]
    return {"type": "doc", "version": 1, "content": content}


def wiki_text(paragraphs: Sequence[str]) -> str:
    """Paragraphs as Data Center wiki markup: blank lines between, markup characters escaped."""
    return "\n\n".join(_WIKI_MARKUP.sub(r"\\\1", text) for text in paragraphs)


def add_comment(site: JiraSite, key: str, paragraphs: Sequence[str]) -> str:
    """Add a comment of these paragraphs to the issue as the signed-in account; the comment's id."""
    key = check_key(key)
    texts = [str(text) for text in paragraphs]
    if not any(text.strip() for text in texts):
        raise ValueError("a comment needs some text")
    if sum(len(text) for text in texts) > MAX_BODY_CHARS:
        raise ValueError(f"a comment is at most {MAX_BODY_CHARS} characters")
    kind, client = site.resolve()
    body: Any = adf_document(texts) if kind == "cloud" else wiki_text(texts)
    path = client.resource_url(f"issue/{key}/comment")
    what = f"commenting on {key}"
    data = site.call(lambda: client.post(path, data={"body": body}), what=what)
    return str(expect_key(data, "id", f"{site.url}/{path}", what=what))
