"""Policy bodies are rendered from Markdown and sanitised: nothing active survives."""

from __future__ import annotations

import pytest

from policies.rendering import line_diff, render_markdown, word_count


@pytest.mark.parametrize(
    ("markdown", "forbidden"),
    [
        ("Hello <script>alert('x')</script> world", ["<script", "alert("]),
        ('<img src="x" onerror="alert(1)">', ["onerror", "<img"]),
        ("[click](javascript:alert(1))", ["javascript:"]),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', ["javascript:", "JaVaScRiPt"]),
        ('<iframe src="https://evil.test"></iframe>', ["<iframe", "evil.test"]),
        ('<p style="position:fixed">styled</p>', ["style=", "position"]),
        ('<a href="https://ok.test" onclick="steal()">x</a>', ["onclick", "steal"]),
        ("[data](data:text/html;base64,PHNjcmlwdD4=)", ["data:text"]),
        ('<object data="x.swf"></object><embed src="y">', ["<object", "<embed"]),
        ("<!-- hidden --><svg onload=alert(1)>", ["<svg", "onload", "hidden"]),
        ('<form action="https://evil.test"><input name="p"></form>', ["<form", "<input"]),
    ],
)
def test_dangerous_markup_is_removed(markdown: str, forbidden: list[str]) -> None:
    html = str(render_markdown(markdown))
    for needle in forbidden:
        assert needle.lower() not in html.lower(), html


def test_headings_lists_links_code_and_tables_are_kept() -> None:
    html = str(
        render_markdown(
            "# Title\n\n## Section\n\n- one\n- two\n\n1. first\n2. second\n\n"
            "See [the handbook](https://example.test/handbook) and `code`.\n\n"
            "```\nblock <b>\n```\n\n"
            "| Class | Example |\n|:--|--:|\n| Restricted | Keys |\n\n"
            "**bold** and *italic*\n\n> quoted\n"
        )
    )
    for needle in [
        "<h1>Title</h1>",
        "<h2>Section</h2>",
        "<ul>",
        "<li>one</li>",
        "<ol>",
        "<code>code</code>",
        "<pre><code>block &lt;b&gt;",
        "<table>",
        '<th align="left">Class</th>',
        '<td align="right">Keys</td>',
        "<strong>bold</strong>",
        "<em>italic</em>",
        "<blockquote>",
    ]:
        assert needle in html, needle


def test_links_keep_their_address_and_get_noopener_noreferrer() -> None:
    html = str(
        render_markdown("[docs](https://example.test/a?b=1) <a href='mailto:x@y.test'>m</a>")
    )

    assert 'href="https://example.test/a?b=1"' in html
    assert 'href="mailto:x@y.test"' in html
    assert html.count('rel="noopener noreferrer"') == 2


def test_the_result_is_safe_to_put_in_a_template() -> None:
    from django.template import Context, Template

    rendered = Template("{{ body }}").render(Context({"body": render_markdown("**x** & <y>")}))

    assert "<strong>x</strong>" in rendered
    assert "&amp;" in rendered
    assert "<y>" not in rendered


def test_words_are_counted_without_markup_symbols() -> None:
    assert word_count("# Title\n\n- one two\n- *three*") == 4


def test_the_diff_shows_added_and_removed_lines_with_context() -> None:
    old = "a\nb\nc\nd\ne\nf\ng\nh\n"
    new = "a\nb\nc\nD\ne\nf\ng\nh\ni\n"

    lines = line_diff(old, new, context=1)

    tagged = [(line.tag, line.text) for line in lines]
    assert ("removed", "d") in tagged
    assert ("added", "D") in tagged
    assert ("added", "i") in tagged
    assert ("gap", "…") in tagged
    assert ("same", "a") not in tagged  # far from any change


def test_identical_texts_have_no_diff() -> None:
    assert line_diff("same\n", "same\n") == []


def test_a_line_changed_in_place_marks_the_changed_words() -> None:
    lines = line_diff("Keys rotate every year.\n", "Keys rotate every six months.\n")

    removed = next(line for line in lines if line.tag == "removed")
    added = next(line for line in lines if line.tag == "added")
    assert [text for changed, text in removed.segments if changed] == ["year."]
    assert [text for changed, text in added.segments if changed] == ["six months."]
    assert "".join(text for _, text in added.segments) == "Keys rotate every six months."
