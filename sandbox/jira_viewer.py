"""The sandbox's Jira issue page, `GET /browse/<KEY>` (the address Jira links use): the issue, its
remote links, and the okrbridge issue panel fetched the way Forge fetches it.

The panel is asked for on the server, as Forge's `invokeRemote` would: a POST to the configured
remote's `/forge/panel` carrying a Forge Invocation Token freshly minted for the signed-in user (see
forge_host.py). Its JSON answer is then drawn here as plain HTML, so the page runs no script and keeps
the viewer's Content-Security-Policy. Sign-in is the page viewer's: Basic credentials answered to a
401 challenge.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, render_template_string, request
from markupsafe import Markup

from sandbox.confluence_viewer import harden, signed_in_or_challenge
from sandbox.confluence_viewer_html import STYLE
from sandbox.forge_host import RemoteAnswer, forge_host

PANEL_MODULE = "okr-panel"

ISSUE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ issue.key }} {{ issue.summary }} - okrbridge sandbox Jira</title>
<style>{{ style }}
.panel-okr{border:1px solid #dfe1e6;border-radius:3px;padding:8px 12px;margin:12px 0}
.kr{border-top:1px solid #ebecf0;padding:6px 0} .kr:first-of-type{border-top:0}
.bar{width:160px;height:8px;background:#dfe1e6;border-radius:4px;display:inline-block}
.bar span{display:block;height:8px;border-radius:4px;background:#0052cc}</style></head>
<body><header>Sandbox Jira <span style="float:right">Signed in as {{ user_name }}</span></header>
<main><h1 class="title">{{ issue.key }} {{ issue.summary }}</h1>
<p class="meta"><span>{{ issue.issuetype }}</span><span>{{ issue.status }}</span>
{% if parent %}<span>in <a href="/browse/{{ parent }}">{{ parent }}</a></span>{% endif %}</p>
<h2>Web links</h2>
{% if links %}<ul class="remote-links">{% for link in links %}
<li><a href="{{ link.url }}">{{ link.title }}</a>
{% if link.summary %}<span class="meta"> {{ link.summary }}</span>{% endif %}</li>{% endfor %}</ul>
{% else %}<p class="meta">No web links.</p>{% endif %}
<section class="panel-okr" id="okr-panel"><h2>Key results</h2>{{ panel }}</section>
</main></body></html>
"""

PANEL = """{% if failure %}<p class="render-error">{{ failure }}</p>{% else %}
{% for kr in answer.krs %}<div class="kr" data-kr="{{ kr.id }}">
<a href="{{ kr.url }}">{{ kr.id }} {{ kr.title }}</a>
<span class="status-lozenge lozenge-{{ kr.colour }}">{{ kr.status }}</span>
{% if kr.stale %}<span class="status-lozenge lozenge-purple">stale</span>{% endif %}
<div><span class="bar"><span style="width:{{ (kr.progress * 100)|round(1) }}%"></span></span>
score {{ "—" if kr.score is none else "%.2f"|format(kr.score) }}
· {{ kr.value_text }} (goal {{ kr.goal }})</div>
<div class="meta">{{ kr.objective.id }} {{ kr.objective.title }} · owner {{ kr.owner or "—" }} · {{ kr.how }}
{% if kr.page_url %} · <a href="{{ kr.page_url }}" class="confluence">Confluence page</a>{% endif %}
</div></div>
{% endfor %}
{% if answer.message %}<p class="meta empty-state">{{ answer.message }}</p>{% endif %}
{% if answer.hidden and answer.krs %}
<p class="meta hidden-count">{{ answer.hidden }} more you may not see.</p>{% endif %}
{% endif %}"""


def register(app: Flask) -> None:
    """Mount the issue page."""
    bp = Blueprint("jira_viewer", __name__)
    bp.after_request(harden)

    @bp.get("/browse/<key>")
    def browse(key: str) -> Response:
        """One issue with its web links and the okrbridge panel."""
        signed = signed_in_or_challenge()
        if isinstance(signed, Response):
            return signed
        state, user = signed
        issue = state.find_issue(key)
        if issue is None:
            return Response("Issue does not exist or you do not have permission to see it.", status=404,
                            mimetype="text/plain")
        links = [{"url": link.object.get("url", ""), "title": link.object.get("title", ""),
                  "summary": link.object.get("summary", "")}
                 for link in state.remote_links.get(issue.key, [])]
        answer = forge_host().invoke(user, "/forge/panel", {"issueKey": issue.key},
                                     site_url=request.host_url.rstrip("/"), module_key=PANEL_MODULE,
                                     issue_key=issue.key)
        html = render_template_string(ISSUE_PAGE, issue=issue, parent=issue.parent or issue.epic_link,
                                      links=links, panel=_panel(answer), style=Markup(STYLE),
                                      user_name=user.display_name)
        return Response(html, mimetype="text/html")

    app.register_blueprint(bp)


def _panel(answer: RemoteAnswer) -> Markup:
    """The panel's answer as HTML (its error message when it is not a 200 with the panel's JSON)."""
    body: Any = answer.body
    failure = None
    if answer.status != 200 or not isinstance(body, dict) or not isinstance(body.get("krs"), list):
        message = body.get("error") if isinstance(body, dict) else None
        status = answer.status or "no connection"
        failure = f"The okrbridge panel did not answer ({status}): {message or body}"
    return Markup(render_template_string(PANEL, answer=body, failure=failure))
