"""Confluence storage format -> safe, read-only HTML for the sandbox's page viewer (and `body.view`).

The body is parsed as XML (see confluence_xhtml) and rebuilt from an allow-list: known HTML tags
with a few harmless attributes, Confluence elements turned into plain HTML (status lozenges, page
links, panels, code, expand, task lists, a table of contents, charts as inline SVG). Everything
else is dropped or reduced to its text, all text is escaped, and links only keep http(s), mailto
and relative targets, so a page can show nothing that runs.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from urllib.parse import urlsplit

from sandbox.confluence_chart import chart_svg
from sandbox.confluence_xhtml import AC, RI, StorageFormatError, ac, parse_storage, ri, text_of

_ALLOWED = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tfoot", "tr", "th", "td",
            "colgroup", "ul", "ol", "li", "a", "strong", "b", "em", "i", "u", "s", "del", "ins", "code",
            "pre", "blockquote", "span", "div", "sub", "sup", "small", "time", "caption", "dl", "dt", "dd"}
_VOID = {"br", "hr", "col"}
# Dropped with everything inside: active content, forms, embedded documents.
_DROPPED = {"script", "style", "iframe", "object", "embed", "form", "input", "button", "textarea",
            "select", "link", "meta", "base", "svg", "math", "noscript", "template", "frame", "frameset"}
_ATTRIBUTES = {"td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}, "col": {"span"},
               "ol": {"start"}, "time": {"datetime"}, "a": {"href", "title"}}
_NUMERIC_ATTRIBUTES = {"colspan", "rowspan", "span", "start"}
_SAFE_SCHEMES = {"http", "https", "mailto"}
LOZENGE_COLOURS = {"grey", "red", "yellow", "green", "blue", "purple"}
_PANELS = {"info", "note", "warning", "tip", "panel"}
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def _no_page(space_key: str | None, title: str) -> str | None:
    """Default page resolver: no page can be linked."""
    return None


def _plain_user(account_id: str) -> str:
    """Default user resolver: show the id itself."""
    return account_id


@dataclass(frozen=True)
class RenderLinks:
    """How references inside a page resolve: page (space key or None, title) -> href, user -> name."""

    page_href: Callable[[str | None, str], str | None] = _no_page
    user_name: Callable[[str], str] = _plain_user


def safe_href(raw: str) -> str | None:
    """The link target if it is http(s), mailto or relative; None for javascript:, data: and the like."""
    cleaned = "".join(ch for ch in raw if ch > " ").strip()
    try:
        scheme = urlsplit(cleaned).scheme.lower()
    except ValueError:
        return None
    return cleaned if scheme in _SAFE_SCHEMES or (not scheme and ":" not in cleaned.split("/")[0]) else None


def render_storage(storage: str, links: RenderLinks | None = None) -> str:
    """Storage format as HTML; a body that does not parse is shown as an escaped error note."""
    try:
        root = parse_storage(storage)
    except StorageFormatError as exc:
        return f'<p class="render-error">{escape(str(exc))}</p>'
    renderer = _Renderer(links or RenderLinks(), root)
    renderer.inner(root)
    return "".join(renderer.out)


@dataclass
class _Renderer:
    """Walks the element tree once, appending HTML to `out`."""

    links: RenderLinks
    root: ET.Element
    out: list[str] = field(default_factory=list)
    headings_seen: int = 0

    def inner(self, element: ET.Element) -> None:
        """An element's text, children and their tails (the element's own tag is not written)."""
        self.text(element.text)
        for child in element:
            self.node(child)
            self.text(child.tail)

    def text(self, value: str | None) -> None:
        """Escaped text."""
        if value:
            self.out.append(escape(value, quote=False))

    def node(self, element: ET.Element) -> None:
        """One element: Confluence elements by name, HTML through the allow-list."""
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag.startswith(f"{{{AC}}}"):
            self.confluence_element(tag[len(AC) + 2:], element)
        elif tag.startswith(f"{{{RI}}}") or tag in _DROPPED:
            return
        elif tag in _VOID:
            self.out.append(f"<{tag}{self.attributes(tag, element)}>")
        elif tag in _ALLOWED:
            extra = ""
            if tag in _HEADINGS:
                self.headings_seen += 1
                extra = f' id="heading-{self.headings_seen}"'
            self.out.append(f"<{tag}{extra}{self.attributes(tag, element)}>")
            self.inner(element)
            self.out.append(f"</{tag}>")
        else:
            self.inner(element)

    def attributes(self, tag: str, element: ET.Element) -> str:
        """The allowed attributes of an HTML element, escaped."""
        kept = []
        for name in sorted(_ATTRIBUTES.get(tag, set())):
            value = element.get(name)
            if value is None or (name in _NUMERIC_ATTRIBUTES and not value.isdigit()):
                continue
            if name == "href":
                value = safe_href(value)
                if value is None:
                    continue
            kept.append(f' {name}="{escape(value, quote=True)}"')
        return "".join(kept)

    # ----- Confluence elements ------------------------------------------------------------------

    def confluence_element(self, name: str, element: ET.Element) -> None:
        """`ac:*` elements: macros, links, tasks, layouts; unknown ones keep their content."""
        if name in ("structured-macro", "macro"):
            self.macro(element)
        elif name == "link":
            self.link(element)
        elif name == "emoticon":
            self.out.append(f'<span class="emoticon">({escape(element.get(ac("name"), ""))})</span>')
        elif name == "image":
            alt = element.get(ac("alt")) or self._resource_name(element) or "image"
            self.out.append(f'<span class="image">[{escape(alt)}]</span>')
        elif name == "task-list":
            self.tasks(element)
        elif name in ("layout", "layout-section", "layout-cell"):
            self.out.append(f'<div class="{name}">')
            self.inner(element)
            self.out.append("</div>")
        elif name in ("parameter", "placeholder", "plain-text-link-body"):
            return
        else:
            self.inner(element)

    def macro(self, element: ET.Element) -> None:
        """A structured macro by name; unknown macros show their name and body."""
        name = element.get(ac("name"), "")
        params = {p.get(ac("name"), ""): text_of(p).strip() for p in element.findall(ac("parameter"))}
        body = element.find(ac("rich-text-body"))
        if name == "status":
            self.status(params)
        elif name == "chart":
            self.chart(params, body)
        elif name in _PANELS:
            self.out.append(f'<div class="panel panel-{name}">')
            if params.get("title"):
                self.out.append(f'<p class="panel-title">{escape(params["title"])}</p>')
            if body is not None:
                self.inner(body)
            self.out.append("</div>")
        elif name in ("code", "noformat"):
            plain = element.find(ac("plain-text-body"))
            code = plain.text if plain is not None and plain.text else ""
            self.out.append(f'<pre class="code"><code>{escape(code, quote=False)}</code></pre>')
        elif name == "expand":
            self.out.append(f"<details><summary>{escape(params.get('title') or 'Click here to expand...')}"
                            "</summary>")
            if body is not None:
                self.inner(body)
            self.out.append("</details>")
        elif name == "toc":
            self.toc()
        elif name == "anchor":
            return
        else:
            self.out.append('<div class="macro macro-unknown">')
            self.out.append(f'<span class="macro-name">{escape(name)}</span>')
            if body is not None:
                self.inner(body)
            self.out.append("</div>")

    def status(self, params: dict[str, str]) -> None:
        """A status lozenge: upper-case title on the macro's colour (Grey when unknown)."""
        colour = params.get("colour", "Grey").lower()
        colour = colour if colour in LOZENGE_COLOURS else "grey"
        title = params.get("title") or colour
        subtle = " lozenge-subtle" if params.get("subtle", "").lower() == "true" else ""
        self.out.append(f'<span class="status-lozenge lozenge-{colour}{subtle}" data-colour="{colour}">'
                        f"{escape(title.upper())}</span>")

    def chart(self, params: dict[str, str], body: ET.Element | None) -> None:
        """The chart macro: an SVG of its first table, with the table itself behind a disclosure."""
        table = body.find(".//table") if body is not None else None
        rows = [[text_of(cell).strip() for cell in row if cell.tag in ("td", "th")]
                for row in (table.iter("tr") if table is not None else [])]
        title = params.get("title", "")
        self.out.append('<figure class="chart">')
        self.out.append(chart_svg(rows, kind=params.get("type", "bar").lower(), title=title,
                                  orientation=params.get("dataOrientation", "horizontal").lower()))
        if title:
            self.out.append(f"<figcaption>{escape(title)}</figcaption>")
        if table is not None:
            self.out.append("<details><summary>Data</summary>")
            self.node(table)
            self.out.append("</details>")
        self.out.append("</figure>")

    def toc(self) -> None:
        """A table of contents of the page's headings (ids match those `node` gives them)."""
        items = []
        for number, heading in enumerate((e for e in self.root.iter() if e.tag in _HEADINGS), start=1):
            level = int(str(heading.tag)[1])
            items.append(f'<li class="toc-level-{level}"><a href="#heading-{number}">'
                         f"{escape(text_of(heading).strip())}</a></li>")
        self.out.append(f'<nav class="toc"><ul>{"".join(items)}</ul></nav>')

    def tasks(self, element: ET.Element) -> None:
        """A task list as read-only checkboxes."""
        self.out.append('<ul class="task-list">')
        for task in element.findall(ac("task")):
            done = (task.findtext(ac("task-status")) or "").strip() == "complete"
            self.out.append(f'<li class="task{" task-complete" if done else ""}">'
                            f'<span class="checkbox">{"&#9745;" if done else "&#9744;"}</span> ')
            body = task.find(ac("task-body"))
            if body is not None:
                self.inner(body)
            self.out.append("</li>")
        self.out.append("</ul>")

    def link(self, element: ET.Element) -> None:
        """`ac:link` to a page, a user, a URL or an attachment."""
        label_element = element.find(ac("link-body"))
        plain = element.findtext(ac("plain-text-link-body"))
        page, user = element.find(ri("page")), element.find(ri("user"))
        url = element.find(ri("url"))
        href: str | None = None
        fallback = self._resource_name(element) or "link"
        if page is not None:
            title = page.get(ri("content-title"), "")
            href = self.links.page_href(page.get(ri("space-key")), title)
            fallback = title
        elif user is not None:
            who = user.get(ri("account-id")) or user.get(ri("userkey")) or user.get(ri("username")) or ""
            self.out.append(f'<span class="user-mention">@{escape(self.links.user_name(who))}</span>')
            return
        elif url is not None:
            href = safe_href(url.get(ri("value"), ""))
        anchor = element.get(ac("anchor"))
        if href is not None and anchor:
            href = f"{href}#{anchor}"
        self.out.append(f'<a href="{escape(href, quote=True)}">' if href is not None
                        else '<span class="link-missing" title="No such page">')
        if label_element is not None:
            self.inner(label_element)
        else:
            self.text(plain or fallback)
        self.out.append("</a>" if href is not None else "</span>")

    @staticmethod
    def _resource_name(element: ET.Element) -> str:
        """The file name or URL an `ac:image`/`ac:link` refers to, if any."""
        for child in element:
            for attribute in (ri("filename"), ri("value"), ri("content-title")):
                if child.get(attribute):
                    return str(child.get(attribute))
        return ""
