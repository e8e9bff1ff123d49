"""The API honours its own OpenAPI document, checked by schemathesis (bounded, in ``make test``).

Every operation of the document is exercised in process, through Django's WSGI application, as
an admin with a personal API token on a seeded organization: schema-valid requests and invalid
ones. A run fails on any server error, a status code the operation does not document, a
content type it does not document, a body that does not match its schema, and an invalid
request (bad ``page``, ``page_size``, enum or type) that is accepted.

Bounded: a few examples per operation (``MAX_EXAMPLES``, no shrinking beyond Hypothesis's
default budget, no deadline), so the whole file takes about a minute on a busy machine.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from compliance import services as compliance_services
from compliance.snapshots import last_completed_week, snapshots_create, weeks_to_fill
from controls.models import AdoptedFramework
from evidence import services as evidence_services
from evidence.models import EvidenceKind
from people.models import Person
from tests.conftest import World, build_world
from tests.policies.factories import make_policy

MAX_EXAMPLES = 4  # per operation: 92 operations in about 80 s on 2 busy cores
ORG = "acme"  # the world's organization: every organization-scoped path is pinned to it
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def api_document() -> dict[str, Any]:
    """The document /api/schema/ serves, with ``{org}`` pinned to the seeded organization."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    document = json.loads(OpenApiJsonRenderer().render(generated))
    paths = {}
    for path, item in document["paths"].items():
        for operation in item.values():
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"] = [
                    p for p in operation["parameters"] if (p["in"], p["name"]) != ("path", "org")
                ]
        paths[path.replace("{org}", ORG)] = item
    document["paths"] = paths
    return document


class InProcessApp:
    """Django's WSGI application, answering inside the test's transaction.

    A real WSGI handler closes the database connection when a request finishes (the test's
    transaction with it); Django's own test client avoids that the same way, by not running
    ``close_old_connections`` when a request starts or finishes."""

    def __init__(self) -> None:
        self.handler = WSGIHandler()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            result = self.handler(environ, start_response)
            body = b"".join(result)
            result.close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        return [body]


schema = schemathesis.openapi.from_dict(api_document())
schema.app = InProcessApp()


def seed(world: World) -> None:
    """Rows whose optional fields are empty, so responses carry the nulls the schema allows."""
    admin = world.users["admin"]
    Person.objects.create(
        organization=world.org,
        full_name="No Account",
        email="no-account@acme.test",
        start_date=dt.date(2024, 1, 15),
    )
    make_policy(world, title="Draft policy")  # a version nobody approved yet
    evidence_services.evidence_create(
        actor=admin,
        organization=world.org,
        title="A note",
        kind=EvidenceKind.NOTE,
        effective_date=dt.date(2024, 1, 15),
        covers_from=None,
        covers_until=None,
        controls=[world.control],
        occurrence=None,
        upload=None,
        url="",
        note="Reviewed.",
    )
    # Weekly snapshots of the last three weeks (the adoption backdated so they have figures).
    AdoptedFramework.objects.filter(organization=world.org).update(
        adopted_at=timezone.now() - dt.timedelta(weeks=4)
    )
    snapshots_create(
        organization=world.org,
        weeks=weeks_to_fill(world.org, latest=last_completed_week(world.org), count=3),
    )


@pytest.fixture(scope="module")
def admin_token(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    """One seeded organization for every operation, rolled back after the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        world = build_world()
        seed(world)
        _, secret = compliance_services.api_token_create(actor=world.users["admin"], name="fuzz")
        yield secret
        transaction.set_rollback(True)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_honours_its_schema(case: Any, admin_token: str, db: Any) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"}, checks=CHECKS)
