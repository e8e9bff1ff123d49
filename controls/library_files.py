"""Reading and validating the versioned reference data in ``controls/library/``.

Two formats:

* ``attest.catalog/v1`` (``library/frameworks/*.yaml``): a framework, its categories and its
  requirement tree.
* ``attest.control-set/v1`` (``library/control-sets/*.yaml``): a starter set of controls with
  their mappings to framework requirements.

A malformed file raises :class:`LibraryFileError` naming the file, the entry and the problem.
Nothing is written here; the services apply parsed data in one transaction.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import yaml

LIBRARY_DIR = Path(__file__).resolve().parent / "library"
CATALOG_DIR = LIBRARY_DIR / "frameworks"
CONTROL_SET_DIR = LIBRARY_DIR / "control-sets"

CATALOG_FORMAT = "attest.catalog/v1"
CONTROL_SET_FORMAT = "attest.control-set/v1"

CONTROL_CATEGORIES = {
    "governance", "risk", "people", "asset", "access", "crypto", "operations", "change",
    "monitoring", "incident", "continuity", "vendor", "data", "privacy", "physical",
    "communication",
}  # fmt: skip
FREQUENCIES = {"continuous", "daily", "weekly", "monthly", "quarterly", "annual", "event_driven"}


class LibraryFileError(Exception):
    def __init__(self, path: Path | str, entry: str, problem: str) -> None:
        self.path = str(path)
        self.entry = entry
        self.problem = problem
        super().__init__(f"{self.path}: {entry}: {problem}")


@dataclass(frozen=True)
class CategoryData:
    code: str
    name: str
    description: str
    mandatory: bool


@dataclass(frozen=True)
class RequirementData:
    ref_id: str
    title: str
    description: str
    category: str
    parent: str | None
    assessable: bool


@dataclass(frozen=True)
class CatalogData:
    path: str
    sha256: str
    key: str
    slug: str
    name: str
    short_name: str
    edition: str
    version: int
    publisher: str
    description: str
    categories: list[CategoryData]
    requirements: list[RequirementData]

    def requirement_key(self, ref_id: str) -> str:
        return requirement_key(self.key, ref_id)


def requirement_key(framework_key: str, ref_id: str) -> str:
    return f"{framework_key}:{ref_id.lower()}"


@dataclass(frozen=True)
class ControlTemplate:
    ref_id: str
    name: str
    category: str
    frequency: str
    long_lead: bool
    description: str
    guidance: str
    mappings: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ControlSetData:
    path: str
    sha256: str
    key: str
    version: int
    name: str
    description: str
    controls: list[ControlTemplate]

    def source_key(self, template: ControlTemplate) -> str:
        return f"{self.key}#{template.ref_id}"


class _Reader:
    """Typed access to one YAML mapping, with errors that name the file and the entry."""

    def __init__(self, path: Path | str, entry: str, data: Any, allowed: set[str]) -> None:
        self.path, self.entry = path, entry
        if not isinstance(data, dict):
            self.fail(f"expected a mapping, found {type(data).__name__}")
        unknown = sorted(set(data) - allowed)
        if unknown:
            self.fail(f"unknown field(s): {', '.join(map(str, unknown))}")
        self.data: dict[str, Any] = data

    def fail(self, problem: str) -> NoReturn:
        raise LibraryFileError(self.path, self.entry, problem)

    def text(self, name: str, *, max_length: int, required: bool = True) -> str:
        value = self.data.get(name)
        if value is None:
            if required:
                self.fail(f"'{name}' is required")
            return ""
        if not isinstance(value, str):
            self.fail(f"'{name}' must be text, found {type(value).__name__}")
        value = value.strip()
        if required and not value:
            self.fail(f"'{name}' must not be empty")
        if len(value) > max_length:
            self.fail(f"'{name}' is {len(value)} characters long; the limit is {max_length}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            self.fail(f"'{name}' must be true or false, found {value!r}")
        return value

    def positive_int(self, name: str) -> int:
        value = self.data.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.fail(f"'{name}' must be a positive integer, found {value!r}")
        return value

    def items(self, name: str) -> list[Any]:
        value = self.data.get(name)
        if not isinstance(value, list) or not value:
            self.fail(f"'{name}' must be a non-empty list")
        return value


def _load_yaml(path: Path) -> tuple[Any, str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LibraryFileError(path, "file", f"cannot be read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "file"
        problem = getattr(exc, "problem", None) or str(exc)
        raise LibraryFileError(path, where, f"is not valid YAML: {problem}") from None
    return data, hashlib.sha256(raw).hexdigest()


def parse_catalog(path: Path) -> CatalogData:
    data, sha256 = _load_yaml(path)
    top = _Reader(
        path,
        "header",
        data,
        {
            "format", "key", "slug", "name", "short_name", "edition", "version", "publisher",
            "description", "categories", "requirements",
        },
    )  # fmt: skip
    if data.get("format") != CATALOG_FORMAT:
        top.fail(f"'format' must be {CATALOG_FORMAT!r}, found {data.get('format')!r}")
    key = top.text("key", max_length=200)
    if not key.startswith("urn:"):
        top.fail(f"'key' must be a URN (urn:…), found {key!r}")
    slug = top.text("slug", max_length=50)
    if not slug.replace("-", "").isalnum() or slug.lower() != slug:
        top.fail(f"'slug' must be lowercase letters, digits and hyphens, found {slug!r}")

    categories: list[CategoryData] = []
    codes: set[str] = set()
    for index, raw in enumerate(top.items("categories")):
        entry = _Reader(
            path,
            f"categories[{index}]",
            raw,
            {"code", "name", "description", "mandatory"},
        )
        code = entry.text("code", max_length=20)
        entry.entry = f"categories[{index}] ({code})"
        if code in codes:
            entry.fail(f"category code {code!r} appears twice")
        codes.add(code)
        categories.append(
            CategoryData(
                code=code,
                name=entry.text("name", max_length=200),
                description=entry.text("description", max_length=2000, required=False),
                mandatory=entry.boolean("mandatory", False),
            )
        )
    if not any(category.mandatory for category in categories):
        top.fail("at least one category must be mandatory")

    requirements: list[RequirementData] = []
    seen: dict[str, RequirementData] = {}
    seen_lower: dict[str, str] = {}  # keys are built from the lowercased ref_id
    for index, raw in enumerate(top.items("requirements")):
        entry = _Reader(
            path,
            f"requirements[{index}]",
            raw,
            {"ref_id", "title", "description", "category", "parent", "assessable"},
        )
        ref_id = entry.text("ref_id", max_length=40)
        entry.entry = f"requirements[{index}] ({ref_id})"
        if ref_id in seen:
            entry.fail(f"ref_id {ref_id!r} appears twice")
        if ref_id.lower() in seen_lower:
            other = seen_lower[ref_id.lower()]
            entry.fail(f"ref_id {ref_id!r} differs from {other!r} only in case")
        seen_lower[ref_id.lower()] = ref_id
        category = entry.text("category", max_length=20)
        if category not in codes:
            entry.fail(f"category {category!r} is not declared under 'categories'")
        parent = entry.text("parent", max_length=40, required=False) or None
        if parent is not None and parent not in seen:
            entry.fail(f"parent {parent!r} must be a ref_id listed before this entry")
        requirement = RequirementData(
            ref_id=ref_id,
            title=entry.text("title", max_length=200),
            description=entry.text("description", max_length=4000, required=False),
            category=category,
            parent=parent,
            assessable=entry.boolean("assessable", True),
        )
        seen[ref_id] = requirement
        requirements.append(requirement)
    if not any(requirement.assessable for requirement in requirements):
        top.fail("no assessable requirement")

    return CatalogData(
        path=str(path),
        sha256=sha256,
        key=key,
        slug=slug,
        name=top.text("name", max_length=200),
        short_name=top.text("short_name", max_length=50),
        edition=top.text("edition", max_length=100, required=False),
        version=top.positive_int("version"),
        publisher=top.text("publisher", max_length=100, required=False),
        description=top.text("description", max_length=4000, required=False),
        categories=categories,
        requirements=requirements,
    )


def parse_control_set(path: Path, known_refs: dict[str, set[str]]) -> ControlSetData:
    """Parse a control set; ``known_refs`` maps framework slug → its requirement ref_ids."""
    data, sha256 = _load_yaml(path)
    top = _Reader(
        path,
        "header",
        data,
        {"format", "key", "version", "name", "description", "controls"},
    )
    if data.get("format") != CONTROL_SET_FORMAT:
        top.fail(f"'format' must be {CONTROL_SET_FORMAT!r}, found {data.get('format')!r}")
    controls: list[ControlTemplate] = []
    ref_ids: set[str] = set()
    for index, raw in enumerate(top.items("controls")):
        entry = _Reader(
            path,
            f"controls[{index}]",
            raw,
            {"ref_id", "name", "category", "frequency", "long_lead", "description", "guidance",
             "mappings"},
        )  # fmt: skip
        ref_id = entry.text("ref_id", max_length=20)
        entry.entry = f"controls[{index}] ({ref_id})"
        if ref_id in ref_ids:
            entry.fail(f"ref_id {ref_id!r} appears twice")
        ref_ids.add(ref_id)
        category = entry.text("category", max_length=20)
        if category not in CONTROL_CATEGORIES:
            entry.fail(
                f"category {category!r} is not one of {', '.join(sorted(CONTROL_CATEGORIES))}"
            )
        frequency = entry.text("frequency", max_length=20)
        if frequency not in FREQUENCIES:
            entry.fail(f"frequency {frequency!r} is not one of {', '.join(sorted(FREQUENCIES))}")
        raw_mappings = entry.data.get("mappings") or {}
        if not isinstance(raw_mappings, dict):
            entry.fail("'mappings' must map a framework slug to a list of ref_ids")
        mappings: dict[str, list[str]] = {}
        for slug, refs in raw_mappings.items():
            if slug not in known_refs:
                entry.fail(f"mappings name an unknown framework {slug!r}")
            if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
                entry.fail(f"mappings.{slug} must be a list of ref_ids")
            unknown = [r for r in refs if r not in known_refs[slug]]
            if unknown:
                entry.fail(f"mappings.{slug} names unknown requirement(s): {', '.join(unknown)}")
            mappings[slug] = list(dict.fromkeys(refs))
        if not any(mappings.values()):
            entry.fail("a control must map to at least one requirement")
        controls.append(
            ControlTemplate(
                ref_id=ref_id,
                name=entry.text("name", max_length=200),
                category=category,
                frequency=frequency,
                long_lead=entry.boolean("long_lead", False),
                description=entry.text("description", max_length=4000),
                guidance=entry.text("guidance", max_length=4000, required=False),
                mappings=mappings,
            )
        )
    return ControlSetData(
        path=str(path),
        sha256=sha256,
        key=top.text("key", max_length=200),
        version=top.positive_int("version"),
        name=top.text("name", max_length=200),
        description=top.text("description", max_length=2000, required=False),
        controls=controls,
    )


def _file_stamps(paths: Sequence[Path]) -> tuple[tuple[str, int], ...]:
    return tuple((str(p), p.stat().st_mtime_ns) for p in paths)


def parse_control_sets(
    control_set_dir: Path = CONTROL_SET_DIR, catalog_dir: Path = CATALOG_DIR
) -> list[ControlSetData]:
    """Every control set of a library folder, validated against that library's catalogs.

    Parsed once per file version (the pages that offer starter controls call this often).
    """
    catalogs = sorted(catalog_dir.glob("*.yaml"))
    sets = sorted(control_set_dir.glob("*.yaml"))
    return list(_parse_control_sets_cached(_file_stamps(catalogs), _file_stamps(sets)))


@functools.lru_cache(maxsize=8)
def _parse_control_sets_cached(
    catalogs: tuple[tuple[str, int], ...], sets: tuple[tuple[str, int], ...]
) -> tuple[ControlSetData, ...]:
    known: dict[str, set[str]] = {}
    for path, _ in catalogs:
        catalog = parse_catalog(Path(path))
        known[catalog.slug] = {r.ref_id for r in catalog.requirements if r.assessable}
    return tuple(parse_control_set(Path(path), known) for path, _ in sets)
