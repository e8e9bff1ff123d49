"""Policy bodies: Markdown rendered to HTML, then sanitised with an explicit allow-list.

The body is written by people in the organization, but it is shown to everyone who must
acknowledge it (and on public acknowledgement pages), so nothing active survives: no scripts,
no event handlers, no ``style`` attributes, no frames, no ``javascript:`` or ``data:`` URLs.
Links keep ``href`` (http, https, mailto) and get ``rel="noopener noreferrer"``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = frozenset(
    {
        "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote",
        "strong", "em", "b", "i", "del", "code", "pre", "sup", "sub",
        "ul", "ol", "li", "dl", "dt", "dd",
        "a", "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Elements removed together with everything inside them (not just their tags).
DROP_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "noscript"})
EXTENSIONS = ["tables", "fenced_code", "sane_lists", "def_list"]
EXTENSION_CONFIGS = {"tables": {"use_align_attribute": True}}


def render_markdown(text: str) -> SafeString:
    """Markdown → sanitised HTML, safe to put in a page as is."""
    html = markdown.markdown(
        text or "",
        extensions=EXTENSIONS,
        extension_configs=EXTENSION_CONFIGS,
        output_format="html",
    )
    return mark_safe(sanitize_html(html))  # noqa: S308 - sanitised by nh3 just above


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROP_WITH_CONTENT),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def word_count(text: str) -> int:
    return len([w for w in text.split() if any(c.isalnum() for c in w)])


@dataclass(frozen=True)
class DiffLine:
    tag: str  # "same" | "added" | "removed" | "gap"
    text: str
    old_number: int | None = None
    new_number: int | None = None
    # For a line changed in place: (changed?, text) runs, so the page can mark the words.
    segments: tuple[tuple[bool, str], ...] = ()


def _word_segments(old: str, new: str) -> tuple[tuple[tuple[bool, str], ...], ...]:
    """Word-level runs of a changed line pair: (old runs, new runs)."""
    a, b = re.split(r"(\s+)", old), re.split(r"(\s+)", new)
    old_runs: list[tuple[bool, str]] = []
    new_runs: list[tuple[bool, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if i2 > i1:
            old_runs.append((tag != "equal", "".join(a[i1:i2])))
        if j2 > j1:
            new_runs.append((tag != "equal", "".join(b[j1:j2])))
    return tuple(old_runs), tuple(new_runs)


def line_diff(old: str, new: str, *, context: int = 2) -> list[DiffLine]:
    """The changed lines between two bodies with a little context; unchanged runs collapse."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    lines: list[DiffLine] = []
    for group in matcher.get_grouped_opcodes(context):
        if lines:
            lines.append(DiffLine("gap", "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for offset, text in enumerate(old_lines[i1:i2]):
                    lines.append(DiffLine("same", text, i1 + offset + 1, j1 + offset + 1))
                continue
            paired = tag == "replace" and i2 - i1 == j2 - j1
            runs = (
                [
                    _word_segments(o, n)
                    for o, n in zip(old_lines[i1:i2], new_lines[j1:j2], strict=True)
                ]
                if paired
                else []
            )
            if tag in ("replace", "delete"):
                for offset, text in enumerate(old_lines[i1:i2]):
                    segments = runs[offset][0] if paired else ()
                    lines.append(DiffLine("removed", text, i1 + offset + 1, None, segments))
            if tag in ("replace", "insert"):
                for offset, text in enumerate(new_lines[j1:j2]):
                    segments = runs[offset][1] if paired else ()
                    lines.append(DiffLine("added", text, None, j1 + offset + 1, segments))
    return lines
