"""Jinja templates of the sandbox's Confluence page viewer, kept in code so that packaging needs
no data files. Flask autoescapes string templates; only `body_html` (built by confluence_render
from an allow-list) is passed as Markup.
"""

from __future__ import annotations

STYLE = """
body{font:14px/1.5 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#172b4d;margin:0}
header{background:#f4f5f7;border-bottom:1px solid #dfe1e6;padding:8px 24px;font-size:13px}
main{max-width:960px;margin:0 auto;padding:16px 24px}
a{color:#0052cc} h1.title{font-size:24px;margin:8px 0}
.meta{color:#5e6c84;font-size:12px} .meta span+span:before{content:" · "}
table{border-collapse:collapse;margin:8px 0}
th,td{border:1px solid #c1c7d0;padding:4px 8px;text-align:left}
th{background:#f4f5f7}
.status-lozenge{display:inline-block;border-radius:3px;padding:0 4px;font-size:11px;font-weight:700;
  line-height:16px;color:#fff;background:#42526e}
.lozenge-green{background:#00875a} .lozenge-red{background:#de350b}
.lozenge-yellow{background:#ff991f;color:#172b4d} .lozenge-blue{background:#0052cc}
.lozenge-purple{background:#5243aa} .lozenge-grey{background:#dfe1e6;color:#42526e}
.lozenge-subtle{background:#fff!important;border:1px solid currentColor;color:#42526e}
.panel{border-left:4px solid #0052cc;background:#deebff;padding:8px 12px;margin:8px 0}
.panel-note{border-color:#ff991f;background:#fffae6}
.panel-warning{border-color:#de350b;background:#ffebe6}
.panel-tip{border-color:#00875a;background:#e3fcef} .panel-title{font-weight:700;margin:0 0 4px}
.link-missing{color:#de350b;text-decoration:line-through}
.macro-unknown{border:1px dashed #c1c7d0;padding:4px}
.macro-name{font-size:11px;color:#5e6c84;display:block}
pre.code{background:#f4f5f7;padding:8px;overflow:auto}
.labels span{background:#dfe1e6;border-radius:3px;padding:0 6px;margin-right:4px;font-size:12px}
.restricted{color:#de350b} figure.chart{margin:8px 0} ul.task-list{list-style:none;padding-left:8px}
.render-error{color:#de350b;font-family:monospace}
"""

LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }} - okrbridge sandbox Confluence</title>
<style>{{ style }}</style></head>
<body><header><a href="/pages/">Sandbox Confluence</a>{% for crumb in crumbs %} /
<a href="{{ crumb.href }}">{{ crumb.title }}</a>{% endfor %}
<span style="float:right">Signed in as {{ user_name }}</span></header>
<main>{{ content }}</main></body></html>
"""

PAGE = """<h1 class="title">{{ page_title }}</h1>
<p class="meta"><span>Space {{ space_name }} ({{ space_key }})</span>
<span>Version {{ version.number }}{% if not latest %} (historical){% endif %}</span>
<span>by {{ version_by }} on {{ version_when }}</span>
{% if version.message %}<span>"{{ version.message }}"</span>{% endif %}
{% if read_restricted %}<span class="restricted">Read restricted</span>{% endif %}
{% if update_restricted %}<span class="restricted">Edit restricted</span>{% endif %}</p>
{% if labels %}<p class="labels">{% for label in labels %}<span>{{ label }}</span>{% endfor %}</p>{% endif %}
<article>{{ body_html }}</article>
{% if children %}<h2>Child pages</h2><ul>{% for child in children %}
<li><a href="/pages/{{ child.id }}">{{ child.title }}</a></li>{% endfor %}</ul>{% endif %}
{% if older %}<p class="meta">Versions: {% for n in older %}
<a href="/pages/{{ page_id }}?version={{ n }}">{{ n }}</a>{% endfor %}</p>{% endif %}
"""

INDEX = """<h1 class="title">Spaces and pages</h1>
{% for space in spaces %}<section><h2>{{ space.name }} ({{ space.key }})</h2>
{% if space.tree %}<ul>{% for item in space.tree %}<li style="margin-left:{{ item.depth * 20 }}px">
<a href="/pages/{{ item.id }}">{{ item.title }}</a></li>{% endfor %}</ul>
{% else %}<p class="meta">No pages you can see.</p>{% endif %}</section>
{% else %}<p>No spaces yet.</p>{% endfor %}
"""

MESSAGE = """<h1 class="title">{{ heading }}</h1><p>{{ message }}</p>"""
