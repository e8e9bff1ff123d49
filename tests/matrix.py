"""Permission matrices: every persona against every page and endpoint.

A :class:`Case` names a request and the status each persona must get. ``READERS`` and friends are
the usual shapes; a case spells out its exceptions. Denied writes must change nothing, which the
tests check through the audit trail (every write appends to it) and the target row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import PERSONAS, World

LOGIN = "login"  # anonymous browser requests are sent to the sign-in page

# The program is readable by viewers, members and admins; auditors see none of it (403), an
# expired auditor and a stranger are not members at all (404).
READ_PROGRAM = {
    "anonymous": LOGIN,
    "outsider": 404,
    "expired_auditor": 404,
    "auditor": 403,
    "viewer": 200,
    "member": 200,
    "granted": 200,
    "owner": 200,
    "admin": 200,
}
ADMIN_ONLY_READ = {**READ_PROGRAM, "viewer": 403, "member": 403, "granted": 403, "owner": 403}
HIDDEN_FROM_ALL = dict.fromkeys(PERSONAS, 404) | {"anonymous": LOGIN}


def admin_only_write(success: int = 302) -> dict[str, Any]:
    return {**ADMIN_ONLY_READ, "admin": success}


def control_writers(success: int = 302) -> dict[str, Any]:
    """Who may change world.control: its owner, the member granted it, and admins."""
    return {**ADMIN_ONLY_READ, "granted": success, "owner": success, "admin": success}


@dataclass
class Case:
    name: str
    method: str
    url: Callable[[World], str]
    expected: dict[str, Any]
    data: Callable[[World], dict[str, Any]] = field(default=lambda w: {})
    # Return something comparable that must not change when the request is denied.
    state: Callable[[World], Any] = field(default=lambda w: None)

    def __post_init__(self) -> None:
        missing = set(PERSONAS) - set(self.expected)
        assert not missing, f"{self.name}: no expectation for {sorted(missing)}"

    def params(self) -> list[tuple[Case, str]]:
        return [(self, persona) for persona in PERSONAS]


def check_page_case(world: World, case: Case, persona: str, *, write_changes: bool = True) -> None:
    """Send ``case``'s request as ``persona`` from a browser session and check the status it
    must get; a denied request (and an anonymous one sent to sign in) must change nothing and
    record nothing, an allowed write must leave an audit event (and, with ``write_changes``,
    change the case's state)."""
    from django.urls import reverse

    from compliance.models import AuditEvent

    client = world.client(persona)
    before_state = case.state(world)
    before_events = AuditEvent.objects.count()

    response = getattr(client, case.method)(case.url(world), data=case.data(world))

    expected = case.expected[persona]
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected, response.content[:500]
    if (response.status_code >= 300 and expected != 302) or expected == LOGIN:
        assert AuditEvent.objects.count() == before_events, "a denied request wrote something"
        assert case.state(world) == before_state, "a denied request changed the data"
    elif case.method == "post":
        assert AuditEvent.objects.count() > before_events, "an allowed write left no audit event"
        if write_changes:
            assert case.state(world) != before_state, "an allowed write changed nothing"
