"""Every URL pattern of the project as a concrete URL, for tests that sweep all routes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern

GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")
CONVERTER = re.compile(r"<(?:(?P<kind>\w+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    pattern: str  # as written, for test ids
    url: str  # with every parameter filled in

    def __str__(self) -> str:
        return self.pattern


def _regex_to_path(regex: str, value: Callable[[str, str], str]) -> str:
    path = GROUP.sub(lambda m: value(m["name"], "regex"), regex)
    path = path.lstrip("^").removesuffix("$").removesuffix(r"\Z")
    return path.replace("/?", "/").replace(r"\.", ".").replace("\\", "")


def _piece(pattern: RoutePattern | RegexPattern, value: Callable[[str, str], str]) -> str:
    if isinstance(pattern, RoutePattern):
        return CONVERTER.sub(lambda m: value(m["name"], m["kind"] or "str"), str(pattern))
    return _regex_to_path(pattern.regex.pattern, value)


def _walk(
    patterns: list[URLPattern | URLResolver], prefix: str, written: str, value: Callable
) -> Iterator[Route]:
    for entry in patterns:
        here = prefix + _piece(entry.pattern, value)  # type: ignore[arg-type]
        shown = written + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, here, shown, value)
        else:
            yield Route(pattern=shown, url="/" + here)


def all_routes(value: Callable[[str, str], str]) -> list[Route]:
    """Each pattern once, filled in by ``value(name, converter)``; only URLs that resolve back."""
    routes: dict[str, Route] = {}
    for route in _walk(get_resolver().url_patterns, "", "", value):
        try:
            resolve(route.url)
        except Resolver404:  # a URL the walker got wrong fails loudly, never skipped
            raise AssertionError(f"{route.url} does not resolve ({route.pattern})") from None
        routes.setdefault(route.pattern, route)
    return sorted(routes.values(), key=lambda r: r.pattern)
