"""What a Confluence status page should be: the seam between rendering and publishing.

Rendering (views -> storage-format XHTML) produces `PageSpec`s; publishing plans and applies them
against Confluence. Neither side needs the other's internals: a renderer can be tested without a
server, and the publisher without templates.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    """One page as okrbridge wants it to be.

    - `key`: a stable identity across runs, independent of the title (e.g. `root`, `period:2026-Q4`,
      `period:2026-Q4/audience:sales`); the publish record is kept by it, so a renamed page is found.
    - `title`: unique in the space (Confluence refuses a duplicate).
    - `parent_key`: the key of the page it sits under; None for the tree's root.
    - `body`: Confluence storage-format XHTML.
    - `read_groups`: the groups that may read it; empty means no read restriction.
    - `labels`: Confluence labels to carry.
    """

    key: str
    title: str
    parent_key: str | None
    body: str
    read_groups: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
