"""What a page offers a person, read from its HTML: links, forms (with the values a browser
would submit untouched), and the rows of its tables. Shared by the crawler of every persona's
pages and the filter-form tests; the standard library's parser is enough for our own markup."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit


@dataclass
class Select:
    name: str
    options: list[str] = field(default_factory=list)
    selected: str | None = None
    multiple: bool = False

    @property
    def value(self) -> str | None:
        """What a browser submits when nobody touches it: the selected option, else the first."""
        if self.selected is not None:
            return self.selected
        if self.multiple:
            return None
        return self.options[0] if self.options else None


@dataclass
class Form:
    method: str  # "get" or "post"
    action: str  # absolute path, query included
    inputs: list[tuple[str, str, str]] = field(default_factory=list)  # (type, name, value)
    selects: list[Select] = field(default_factory=list)
    textareas: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[str] = field(default_factory=list)  # the submit buttons' labels

    def data(self, **changes: str) -> list[tuple[str, str]]:
        """The name/value pairs a browser sends for this form as shown, with ``changes``."""
        pairs: list[tuple[str, str]] = []
        for kind, name, value in self.inputs:
            if not name or kind in {"submit", "button", "reset", "image", "file"}:
                continue
            if kind in {"checkbox", "radio"} and value.startswith("\0unchecked"):
                continue
            pairs.append((name, value))
        for select in self.selects:
            if select.value is not None:
                pairs.append((select.name, select.value))
        pairs.extend(self.textareas)
        if changes:
            pairs = [(k, changes.get(k, v)) for k, v in pairs]
            names = {k for k, _ in pairs}
            pairs.extend((k, v) for k, v in changes.items() if k not in names)
        return pairs

    def url(self, **changes: str) -> str:
        """Where a GET form leads when submitted (with ``changes``)."""
        base = self.action.split("?", 1)[0]
        return f"{base}?{urlencode(self.data(**changes))}"

    @property
    def field_names(self) -> list[str]:
        return [n for _, n, _ in self.data()]


@dataclass
class Page:
    url: str
    links: list[str] = field(default_factory=list)  # absolute paths (same origin) or full URLs
    forms: list[Form] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)  # the text of each table body row

    def get_forms(self) -> list[Form]:
        return [f for f in self.forms if f.method == "get"]


class _Reader(HTMLParser):
    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page(url=url)
        self.form: Form | None = None
        self.select: Select | None = None
        self.option: str | None = None
        self.textarea: list[str] | None = None
        self.textarea_name = ""
        self.in_tbody = 0
        self.row: list[str] | None = None

    def _absolute(self, href: str) -> str:
        return urljoin(self.page.url, href)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        for attribute in ("hx-get", "hx-post"):
            if attribute in a and tag != "form":
                target = self._absolute(a[attribute])
                if attribute == "hx-get":
                    self.page.links.append(target)
                else:
                    self.page.forms.append(Form(method="post", action=target))
        if tag == "a" and a.get("href"):
            href = a["href"]
            if not href.startswith(("#", "mailto:", "javascript:", "tel:")):
                self.page.links.append(self._absolute(href))
        elif tag == "form":
            method = (a.get("method") or "get").lower()
            action = self._absolute(a.get("action") or self.page.url)
            self.form = Form(method=method, action=action)
            self.page.forms.append(self.form)
        elif tag == "input" and self.form is not None:
            kind = (a.get("type") or "text").lower()
            value = a.get("value", "on" if kind in {"checkbox", "radio"} else "")
            if kind in {"checkbox", "radio"} and "checked" not in a:
                value = "\0unchecked" + value
            if "disabled" not in a:
                self.form.inputs.append((kind, a.get("name", ""), value))
            if kind == "submit":
                self.form.buttons.append(a.get("value", ""))
        elif tag == "select" and self.form is not None and "disabled" not in a:
            self.select = Select(name=a.get("name", ""), multiple="multiple" in a)
            if self.select.name:
                self.form.selects.append(self.select)
        elif tag == "option" and self.select is not None:
            self.option = a.get("value")
            value = self.option if self.option is not None else ""
            if self.option is None:
                self.option = ""
            self.select.options.append(value)
            if "selected" in a:
                self.select.selected = value
        elif tag == "textarea" and self.form is not None:
            self.textarea = []
            self.textarea_name = a.get("name", "")
        elif tag == "button" and self.form is not None:
            self.form.buttons.append(a.get("value", ""))
        elif tag == "tbody":
            self.in_tbody += 1
        elif tag == "tr" and self.in_tbody:
            self.row = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "option":
            self.option = None
        elif tag == "textarea" and self.form is not None and self.textarea is not None:
            if self.textarea_name:
                self.form.textareas.append((self.textarea_name, "".join(self.textarea)))
            self.textarea = None
        elif tag == "tbody":
            self.in_tbody -= 1
        elif tag == "tr" and self.row is not None:
            self.page.rows.append(" ".join(" ".join(self.row).split()))
            self.row = None

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.textarea.append(data)
        if self.row is not None:
            self.row.append(data)


def read_page(url: str, html: str) -> Page:
    """``url`` is the page's absolute URL (``http://testserver/o/acme/``)."""
    reader = _Reader(url)
    reader.feed(html)
    reader.close()
    return reader.page


def path_of(url: str) -> str:
    """The path and query of a same-origin URL."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
