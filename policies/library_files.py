"""Attest's starter policy library: Markdown files with a YAML front matter in ``library/``.

Each file looks like::

    ---
    key: access-control
    title: Access Control and Password Policy
    category: access
    review_months: 12
    summary: One or two sentences shown in the library.
    controls: [IAM-01, IAM-02]      # starter control ref_ids (controls/library/control-sets)
    soc2: [CC6.1, CC6.2]            # SOC 2 criteria (controls/library/frameworks)
    ---
    # Access Control and Password Policy
    …

``{{ organization }}`` in the body becomes the organization's name on import. A malformed file
raises :class:`controls.library_files.LibraryFileError` naming the file, the field and the
problem. Nothing is written here; :func:`policies.services.library_import` applies the data.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import yaml

from controls import library_files as control_files
from controls.library_files import LibraryFileError
from policies.models import PolicyCategory

LIBRARY_DIR = Path(__file__).resolve().parent / "library"
STARTER_CONTROL_SET = "urn:attest:control-set:soc2-starter"
SOC2_SLUG = "soc2"
PLACEHOLDER = "{{ organization }}"

KEY_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")
PLACEHOLDER_PATTERN = re.compile(r"\{\{\s*([^}]*?)\s*\}\}")
FIELDS = {"key", "title", "category", "review_months", "summary", "controls", "soc2"}
MAX_BODY = 100_000

__all__ = ["LibraryFileError", "PolicyTemplate", "parse_library", "parse_policy_file"]


@dataclass(frozen=True)
class PolicyTemplate:
    path: str
    sha256: str
    key: str
    title: str
    category: str
    review_months: int
    summary: str
    body: str
    controls: list[str] = field(default_factory=list)
    soc2: list[str] = field(default_factory=list)

    def body_for(self, organization_name: str) -> str:
        return self.body.replace(PLACEHOLDER, organization_name)


@dataclass(frozen=True)
class KnownRefs:
    """What a library file may point at: starter control ref_ids and SOC 2 criteria."""

    controls: frozenset[str]
    soc2: frozenset[str]


def _split_front_matter(path: Path, text: str) -> tuple[str, str]:
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise LibraryFileError(path, "front matter", "the file must start with a '---' line")
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :])
    raise LibraryFileError(path, "front matter", "no closing '---' line")


class _Fields:
    def __init__(self, path: Path, data: Any) -> None:
        self.path = path
        if not isinstance(data, dict):
            self.fail("front matter", f"expected a mapping, found {type(data).__name__}")
        unknown = sorted(str(name) for name in set(data) - FIELDS)
        if unknown:
            self.fail("front matter", f"unknown field(s): {', '.join(unknown)}")
        self.data: dict[str, Any] = data

    def fail(self, name: str, problem: str) -> NoReturn:
        raise LibraryFileError(self.path, name, problem)

    def text(self, name: str, *, max_length: int, required: bool = True) -> str:
        value = self.data.get(name)
        if value is None:
            if required:
                self.fail(name, "is required")
            return ""
        if not isinstance(value, str):
            self.fail(name, f"must be text, found {type(value).__name__}")
        value = " ".join(value.split())
        if required and not value:
            self.fail(name, "must not be empty")
        if len(value) > max_length:
            self.fail(name, f"is {len(value)} characters long; the limit is {max_length}")
        return value

    def refs(self, name: str, known: frozenset[str], what: str) -> list[str]:
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(name, "must be a list of identifiers, e.g. [IAM-01, IAM-02]")
        unknown = [v for v in value if v not in known]
        if unknown:
            self.fail(name, f"unknown {what}: {', '.join(unknown)}")
        return list(dict.fromkeys(value))


def parse_policy_file(path: Path, known: KnownRefs) -> PolicyTemplate:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LibraryFileError(path, "file", f"cannot be read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LibraryFileError(path, "file", "is not UTF-8 text") from None
    header, body = _split_front_matter(path, text)
    try:
        data = yaml.safe_load(header)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"front matter line {mark.line + 1}" if mark is not None else "front matter"
        problem = getattr(exc, "problem", None) or str(exc)
        raise LibraryFileError(path, where, f"is not valid YAML: {problem}") from None
    fields = _Fields(path, data)

    key = fields.text("key", max_length=100)
    if not KEY_PATTERN.match(key):
        fields.fail("key", f"use lowercase letters, digits and hyphens, found {key!r}")
    category = fields.text("category", max_length=20)
    if category not in PolicyCategory.values:
        fields.fail(
            "category", f"{category!r} is not one of {', '.join(sorted(PolicyCategory.values))}"
        )
    review_months = fields.data.get("review_months", 12)
    if isinstance(review_months, bool) or not isinstance(review_months, int):
        fields.fail("review_months", f"must be a whole number of months, found {review_months!r}")
    if not 1 <= review_months <= 36:
        fields.fail("review_months", f"must be between 1 and 36, found {review_months}")

    body = body.strip("\n")
    if not body.strip():
        fields.fail("body", "the policy text after the front matter is empty")
    if len(body) > MAX_BODY:
        fields.fail("body", f"is {len(body)} characters long; the limit is {MAX_BODY}")
    for match in PLACEHOLDER_PATTERN.finditer(body):
        if match.group(1) != "organization":
            line = body[: match.start()].count("\n") + 1
            fields.fail("body", f"line {line}: unknown placeholder {match.group(0)!r}")

    return PolicyTemplate(
        path=str(path),
        sha256=hashlib.sha256(raw).hexdigest(),
        key=key,
        title=fields.text("title", max_length=200),
        category=category,
        review_months=review_months,
        summary=fields.text("summary", max_length=1000, required=False),
        body=body + "\n",
        controls=fields.refs("controls", known.controls, "starter control(s)"),
        soc2=fields.refs("soc2", known.soc2, "SOC 2 criteria"),
    )


def known_refs() -> KnownRefs:
    """Starter control ref_ids and SOC 2 criteria from the controls library."""
    control_set = next(
        (s for s in control_files.parse_control_sets() if s.key == STARTER_CONTROL_SET), None
    )
    soc2: frozenset[str] = frozenset()
    for path in sorted(control_files.CATALOG_DIR.glob("*.yaml")):
        catalog = _parse_catalog_cached(str(path), path.stat().st_mtime_ns)
        if catalog.slug == SOC2_SLUG:
            soc2 = frozenset(r.ref_id for r in catalog.requirements if r.assessable)
    controls = frozenset(c.ref_id for c in control_set.controls) if control_set else frozenset()
    return KnownRefs(controls=controls, soc2=soc2)


@functools.lru_cache(maxsize=8)
def _parse_catalog_cached(path: str, mtime_ns: int) -> control_files.CatalogData:
    return control_files.parse_catalog(Path(path))


def parse_library(
    directory: Path = LIBRARY_DIR, known: KnownRefs | None = None
) -> list[PolicyTemplate]:
    """Every policy file of a library folder, validated; keys are unique across files."""
    paths = sorted(directory.glob("*.md"))
    stamps = tuple((str(p), p.stat().st_mtime_ns) for p in paths)
    if known is None:
        known = known_refs()
    return list(_parse_library_cached(stamps, known))


@functools.lru_cache(maxsize=16)
def _parse_library_cached(
    stamps: tuple[tuple[str, int], ...], known: KnownRefs
) -> tuple[PolicyTemplate, ...]:
    templates = [parse_policy_file(Path(path), known) for path, _ in stamps]
    _check_unique(templates)
    return tuple(templates)


def _check_unique(templates: Sequence[PolicyTemplate]) -> None:
    keys: dict[str, str] = {}
    titles: dict[str, str] = {}
    for template in templates:
        if template.key in keys:
            raise LibraryFileError(
                template.path, "key", f"{template.key!r} is also used by {keys[template.key]}"
            )
        keys[template.key] = template.path
        title = template.title.lower()
        if title in titles:
            raise LibraryFileError(
                template.path, "title", f"{template.title!r} is also used by {titles[title]}"
            )
        titles[title] = template.path


def library_template(key: str) -> PolicyTemplate | None:
    return next((t for t in parse_library() if t.key == key), None)
