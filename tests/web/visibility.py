"""Who may see what in the sample okrs.toml, worked out from its `visible_to` lists and the sandbox's
documented groups (sandbox/seed.py), independently of the web app's own rule."""

from __future__ import annotations

from functools import cache

from okrbridge.catalog import bundled_sample, load_catalog
from okrbridge.domain import Catalog

GROUPS = {  # the seed's fixed people (every one of them but okrbot and grace is also in okr-viewers)
    "alice": {"okr-executives", "jira-administrators", "okr-viewers"},
    "bob": {"okr-executives", "okr-sales", "okr-viewers"},
    "carol": {"okr-marketing", "okr-viewers"},
    "dave": {"okr-engineering", "okr-viewers"},
    "erin": {"okr-people", "okr-viewers"},
    "frank": {"okr-viewers"},
    None: set(),  # anonymous
}


@cache
def sample() -> Catalog:
    """The bundled sample catalog."""
    return load_catalog(bundled_sample("okrs.toml")).catalog


def allowed_objectives(login: str | None) -> set[str]:
    """Ids of the objectives `login` may see."""
    return {o.id for o in sample().objectives
            if "everyone" in o.visible_to or GROUPS[login] & set(o.visible_to)}


@cache
def forbidden_texts(login: str | None) -> tuple[str, ...]:
    """Strings that name something `login` may not see: KR ids as the answers spell them, KR and
    objective titles (objective ids double as epic keys in the seed, so titles name objectives)."""
    allowed = allowed_objectives(login)
    texts: list[str] = []
    for objective in sample().objectives:
        if objective.id in allowed:
            continue
        texts.append(objective.title)
        for kr in objective.key_results:
            texts += [f'"{kr.id}"', f">{kr.id}<", f"/kr/{kr.id}", kr.title]
    for kpi in sample().kpis:
        if "everyone" not in kpi.visible_to and not GROUPS[login] & set(kpi.visible_to):
            texts += [f'"{kpi.id}"', kpi.name]
    return tuple(texts)
