"""Storage format renders to safe HTML: lozenges, links, tables and charts show; nothing runs."""

from __future__ import annotations

import pytest

from sandbox.confluence_render import RenderLinks, render_storage, safe_href


def status(colour: str, title: str) -> str:
    """A status macro in storage format."""
    return (
        f'<ac:structured-macro ac:name="status"><ac:parameter ac:name="colour">{colour}</ac:parameter>'
        f'<ac:parameter ac:name="title">{title}</ac:parameter></ac:structured-macro>'
    )


def test_status_macros_become_coloured_lozenges() -> None:
    html = render_storage(f"<p>{status('Green', 'On track')} {status('Red', 'Off &amp; away')}</p>")
    assert '<span class="status-lozenge lozenge-green" data-colour="green">ON TRACK</span>' in html
    assert '<span class="status-lozenge lozenge-red" data-colour="red">OFF &amp; AWAY</span>' in html


def test_an_unknown_lozenge_colour_falls_back_to_grey() -> None:
    assert "lozenge-grey" in render_storage(status('Pink" onmouseover="x', "odd"))


def test_script_elements_are_dropped_and_escaped_text_stays_text() -> None:
    html = render_storage("<p>a</p><script>alert(1)</script><p>&lt;script&gt;alert(2)&lt;/script&gt;</p>")
    assert "<script" not in html
    assert "alert(1)" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_event_handlers_styles_and_unknown_attributes_are_removed() -> None:
    html = render_storage(
        '<table><tr><td colspan="2" onclick="x()" style="color:red">a</td>'
        '<td rowspan="x">b</td></tr></table><p onmouseover="y()">c</p>'
    )
    assert html == '<table><tr><td colspan="2">a</td><td>b</td></tr></table><p>c</p>'


@pytest.mark.parametrize(
    "href",
    ["javascript:alert(1)", " JaVaScRiPt:alert(1)", "java\tscript:x", "data:text/html,<b>", "vbscript:x"],
)
def test_dangerous_link_targets_are_dropped(href: str) -> None:
    assert safe_href(href) is None
    assert "href" not in render_storage(f'<a href="{href.replace("<", "&lt;")}">x</a>')


@pytest.mark.parametrize("href", ["https://example.com/a?b=1&c=2", "/pages/1", "#top", "mailto:a@b.c"])
def test_ordinary_link_targets_are_kept(href: str) -> None:
    assert safe_href(href) == href


def test_page_links_resolve_through_the_resolver_or_show_as_missing() -> None:
    links = RenderLinks(
        page_href=lambda space, title: "/pages/7" if (space, title) == ("OKR", "Team") else None
    )
    html = render_storage(
        '<ac:link><ri:page ri:content-title="Team" ri:space-key="OKR"/>'
        "<ac:plain-text-link-body><![CDATA[The <team>]]></ac:plain-text-link-body></ac:link>"
        '<ac:link><ri:page ri:content-title="Gone"/></ac:link>',
        links,
    )
    assert '<a href="/pages/7">The &lt;team&gt;</a>' in html
    assert '<span class="link-missing" title="No such page">Gone</span>' in html


def test_user_mentions_show_display_names() -> None:
    links = RenderLinks(user_name=lambda account: {"acc-1": "Ann <A>"}.get(account, account))
    html = render_storage('<p><ac:link><ri:user ri:account-id="acc-1"/></ac:link></p>', links)
    assert '<span class="user-mention">@Ann &lt;A&gt;</span>' in html


def test_chart_macros_draw_an_inline_svg_and_keep_the_table() -> None:
    storage = (
        '<ac:structured-macro ac:name="chart"><ac:parameter ac:name="type">line</ac:parameter>'
        '<ac:parameter ac:name="title">Grades &lt;2026&gt;</ac:parameter><ac:rich-text-body><table>'
        "<tr><th>KR</th><th>Jan</th><th>Feb</th></tr><tr><td>CO-1</td><td>0.2</td><td>0.5</td></tr>"
        "<tr><td>CO-2</td><td>n/a</td><td>0.9</td></tr></table></ac:rich-text-body></ac:structured-macro>"
    )
    html = render_storage(storage)
    assert html.count("<polyline") == 2
    assert "<title>Grades &lt;2026&gt;</title>" in html
    assert "<td>CO-1</td>" in html and "<script" not in html


def test_pie_and_bar_charts_and_empty_data() -> None:
    table = "<table><tr><th/><th>A</th><th>B</th></tr><tr><td>Share</td><td>3</td><td>1</td></tr></table>"

    def chart(kind: str, rows: str = table) -> str:
        """Render a chart macro of one kind."""
        return render_storage(
            f'<ac:structured-macro ac:name="chart"><ac:parameter ac:name="type">{kind}'
            f"</ac:parameter><ac:rich-text-body>{rows}</ac:rich-text-body></ac:structured-macro>"
        )

    assert chart("pie").count("<path") == 2
    assert chart("bar").count("<rect") == 2 + 1  # two bars and one legend square
    assert "No numeric data" in chart("bar", "<table><tr><td>x</td></tr></table>")


def test_headings_tables_panels_code_and_expand_render_as_html() -> None:
    html = render_storage(
        '<h1>Title</h1><ac:structured-macro ac:name="toc"/>'
        '<ac:structured-macro ac:name="info"><ac:parameter ac:name="title">Note</ac:parameter>'
        "<ac:rich-text-body><p>Inside</p></ac:rich-text-body></ac:structured-macro>"
        '<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[if a < b: print("&")]]>'
        "</ac:plain-text-body></ac:structured-macro>"
        '<ac:structured-macro ac:name="expand"><ac:rich-text-body><p>More</p></ac:rich-text-body>'
        "</ac:structured-macro>"
        '<ac:structured-macro ac:name="mystery"><ac:rich-text-body><p>kept</p></ac:rich-text-body>'
        "</ac:structured-macro>"
    )
    assert '<h1 id="heading-1">Title</h1>' in html
    assert '<a href="#heading-1">Title</a>' in html
    assert '<div class="panel panel-info"><p class="panel-title">Note</p><p>Inside</p></div>' in html
    assert '<code>if a &lt; b: print("&amp;")</code>' in html
    assert "<details><summary>Click here to expand...</summary><p>More</p></details>" in html
    assert '<span class="macro-name">mystery</span><p>kept</p>' in html


def test_task_lists_render_as_read_only_checkboxes() -> None:
    html = render_storage(
        "<ac:task-list><ac:task><ac:task-status>complete</ac:task-status>"
        "<ac:task-body>Done</ac:task-body></ac:task><ac:task><ac:task-status>incomplete"
        "</ac:task-status><ac:task-body>Todo</ac:task-body></ac:task></ac:task-list>"
    )
    assert 'class="task task-complete"' in html and "Todo" in html and "<input" not in html


def test_a_body_that_does_not_parse_shows_an_escaped_note() -> None:
    html = render_storage("<p><script>x</p>")
    assert html.startswith('<p class="render-error">Error parsing xhtml')
    assert "<script" not in html
