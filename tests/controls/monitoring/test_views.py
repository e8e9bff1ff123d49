"""The automated-test pages: who may see and do what, bad input, and flat query counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from controls.models import ControlTest, Integration, TestException, TestRun
from controls.monitoring import services
from tests.conftest import World
from tests.people.factories import PersonFactory

pytestmark = pytest.mark.django_db


def url(name: str, *args: object) -> str:
    return reverse(name, args=["acme", *args])


READERS = {"viewer", "member", "granted", "owner", "admin"}


@pytest.mark.parametrize(
    "persona", ["anonymous", "outsider", "auditor", "viewer", "member", "owner", "admin"]
)
def test_reading_pages(
    world: World, make_test: Callable[..., ControlTest], run_it: Callable[..., Any], persona: str
) -> None:
    PersonFactory(organization=world.org, email="m@acme.test")
    test = make_test()
    run = run_it(test)
    client = world.client(persona)
    for page in (url("control_test_list"), url("control_test_detail", test.pk),
                 url("test_run_detail", run.pk)):  # fmt: skip
        response = client.get(page)
        if persona == "anonymous":
            assert response.status_code == 302 and "/login/" in response["Location"]
        elif persona == "outsider":
            assert response.status_code == 404
        elif persona == "auditor":
            assert response.status_code == 403
        else:
            assert response.status_code == 200, (persona, page)
    if persona in READERS:
        page = client.get(url("control_test_detail", test.pk)).content.decode()
        assert "Background checks" in page
        can_run = persona in {"owner", "admin"}
        assert (f'action="{url("control_test_run", test.pk)}"' in page) == can_run


def test_another_organizations_test_is_a_404(world: World) -> None:
    foreign = services.control_test_create(
        actor=world.users["outsider"], control=world.foreign_control, name="Theirs",
        check_key="attest.evidence_fresh",
    )  # fmt: skip
    client = world.client("admin")
    assert client.get(url("control_test_detail", foreign.pk)).status_code == 404
    assert client.post(url("control_test_run", foreign.pk)).status_code == 404
    assert client.get(url("control_test_create", world.foreign_control.pk)
                      + "?check=attest.evidence_fresh").status_code == 404  # fmt: skip
    assert not TestRun.objects.exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("viewer", 403), ("member", 403), ("auditor", 403), ("granted", 302), ("owner", 302),
     ("admin", 302)],
)  # fmt: skip
def test_who_may_run_a_test_now(
    world: World, make_test: Callable[..., ControlTest], persona: str, status: int
) -> None:
    test = make_test()
    response = world.client(persona).post(url("control_test_run", test.pk))
    assert response.status_code == status
    assert TestRun.objects.count() == (1 if status == 302 else 0)


@pytest.mark.parametrize(
    ("persona", "status"),
    [("viewer", 403), ("member", 403), ("granted", 302), ("owner", 302), ("admin", 302)],
)
def test_who_may_add_a_test_to_a_control(world: World, persona: str, status: int) -> None:
    response = world.client(persona).post(
        url("control_test_create", world.control.pk) + "?check=attest.evidence_fresh",
        {"name": "Evidence is fresh", "schedule_kind": "interval", "interval_minutes": "1440",
         "severity": "medium", "readiness_rule": "strict", "enabled": "on"},
    )  # fmt: skip
    assert response.status_code == status
    assert ControlTest.objects.count() == (1 if status == 302 else 0)


@pytest.mark.parametrize(
    ("check", "labels"),
    [
        ("web.security_headers", ["URL", "Require a Content-Security-Policy"]),
        ("web.tls_certificate", ["Host", "Port", "Minimum days before expiry"]),
        ("attest.vendor_reviews", ["Vendors of tier"]),
    ],
)
def test_the_check_parameters_are_labelled_by_their_own_names(
    world: World, check: str, labels: list[str]
) -> None:
    body = world.client("admin").get(
        url("control_test_create", world.control.pk) + f"?check={check}"
    )
    html = body.content.decode()
    assert body.status_code == 200
    for label in labels:
        assert f"{label}</span>" in html or f"{label} <span" in html or f"{label}</label>" in html
    assert "Param " not in html


def test_the_test_page_shows_a_chosen_parameter_by_its_label_not_its_key(
    world: World, make_test: Callable[..., ControlTest]
) -> None:
    test = make_test(parameters={"requirement": "background_check", "fail_when_due": True})
    html = world.client("viewer").get(url("control_test_detail", test.pk)).content.decode()
    assert '<dt>Requirement</dt><dd class="small">Background check</dd>' in html
    assert "background_check" not in html


def test_a_bad_test_form_shows_the_errors_and_saves_nothing(world: World) -> None:
    response = world.client("owner").post(
        url("control_test_create", world.control.pk) + "?check=attest.personnel_requirement",
        {"name": "", "schedule_kind": "cron", "cron": "every day at nine", "severity": "medium",
         "readiness_rule": "strict", "param_requirement": "astrology"},
    )  # fmt: skip
    assert response.status_code == 400
    page = response.content.decode()
    assert "This field is required." in page  # the name
    assert not ControlTest.objects.exists()

    response = world.client("owner").post(
        url("control_test_create", world.control.pk) + "?check=attest.personnel_requirement",
        {"name": "Checks", "schedule_kind": "cron", "cron": "every day at nine",
         "severity": "medium", "readiness_rule": "strict", "param_requirement": "astrology"},
    )  # fmt: skip
    assert response.status_code == 400
    page = response.content.decode()
    assert "Give five fields" in page
    assert "Select a valid choice" in page  # the check's own parameter, on its field
    assert not ControlTest.objects.exists()


def test_run_now_says_when_the_queue_is_down(
    world: World, make_test: Callable[..., ControlTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    from controls import tasks

    def down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("Connection refused")

    monkeypatch.setattr(tasks.run_control_test, "apply_async", down)
    test = make_test()
    response = world.client("owner").post(url("control_test_run", test.pk), follow=True)
    assert "The task queue is unavailable right now" in response.content.decode()
    assert TestRun.objects.get().status == "queued"


def test_only_admins_accept_risks(
    world: World, make_test: Callable[..., ControlTest], run_it: Callable[..., Any]
) -> None:
    PersonFactory(organization=world.org, full_name="Missing", email="m@acme.test")
    test = make_test()
    run_it(test)
    data = {"resource_id": "person:m@acme.test", "reason": "Ordered.", "expires_on": "2099-01-01"}
    for persona in ("owner", "viewer"):
        assert (
            world.client(persona).post(url("test_exception_create", test.pk), data).status_code
            == 403
        )
    assert not TestException.objects.exists()
    # A year at most: far-future dates are refused with the reason.
    response = world.client("admin").post(url("test_exception_create", test.pk), data, follow=True)
    assert "At most a year" in response.content.decode()
    assert not TestException.objects.exists()


@pytest.mark.parametrize("persona", ["viewer", "member", "owner", "auditor"])
def test_integrations_are_for_admins_only(world: World, persona: str) -> None:
    client = world.client(persona)
    assert client.get(url("integration_list")).status_code == 403
    response = client.post(
        url("integration_create") + "?kind=github", {"name": "GH", "secret_token": "ghp_x" * 8}
    )
    assert response.status_code == 403
    assert not Integration.objects.exists()


def test_an_admin_connects_github_and_the_token_is_never_shown_again(world: World) -> None:
    client = world.client("admin")
    token = "ghp_" + "s3cr3tT0k3n" * 3
    response = client.post(
        url("integration_create") + "?kind=github",
        {"name": "GitHub", "config_organization": "acme-inc", "secret_token": token},
    )
    assert response.status_code == 302
    integration = Integration.objects.get()
    assert token not in integration.secret and integration.secret_hint == f"…{token[-4:]}"
    for page in (url("integration_list"), url("integration_edit", integration.pk)):
        html = client.get(page).content.decode()
        assert token not in html and integration.secret not in html
    # Leaving the token empty when editing keeps it.
    edit = {"name": "GitHub (Acme)", "config_organization": "acme-inc"}
    client.post(url("integration_edit", integration.pk), edit)
    integration.refresh_from_db()
    from controls.integrations import crypto

    assert crypto.decrypt(integration.secret) == {"token": token}
    assert integration.name == "GitHub (Acme)"


def test_a_missing_token_is_a_form_error(world: World) -> None:
    response = world.client("admin").post(
        url("integration_create") + "?kind=github", {"name": "GH"}
    )
    assert response.status_code == 400
    assert not Integration.objects.exists()


def test_the_test_list_takes_the_same_queries_however_many_tests(
    world: World,
    make_test: Callable[..., ControlTest],
    run_it: Callable[..., Any],
    django_assert_max_num_queries: Any,
) -> None:
    PersonFactory(organization=world.org, email="m@acme.test")
    client = world.client("admin")
    run_it(make_test(name="First"))
    with django_assert_max_num_queries(40) as few:
        client.get(url("control_test_list"))
    for n in range(8):
        run_it(make_test(name=f"More {n}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("control_test_list"))
    assert response.content.decode().count("More ") == 8


def test_the_control_page_lists_its_tests_and_their_recent_runs(
    world: World, make_test: Callable[..., ControlTest], run_it: Callable[..., Any]
) -> None:
    PersonFactory(organization=world.org, email="m@acme.test")
    run = run_it(make_test())
    page = world.client("viewer").get(reverse("control_detail", args=["acme", world.control.pk]))
    html = page.content.decode()
    assert "Background checks" in html
    assert reverse("test_run_detail", args=["acme", run.pk]) in html
    assert "Failing" in html


def test_times_on_the_pages_read_in_the_organizations_time_zone(
    world: World, make_test: Callable[..., ControlTest], run_it: Callable[..., Any]
) -> None:
    import datetime as dt

    from django.utils import timezone

    PersonFactory(organization=world.org, email="m@acme.test")
    run = run_it(make_test())
    queued = dt.datetime(2026, 1, 15, 15, 0, 5, tzinfo=dt.UTC)
    TestRun.objects.filter(pk=run.pk).update(queued_at=queued)
    client = world.client("viewer")

    assert "15 Jan 2026, 15:00:05" in client.get(url("test_run_detail", run.pk)).content.decode()
    world.org.time_zone = "America/New_York"
    world.org.save(update_fields=["time_zone"])
    assert "15 Jan 2026, 10:00:05" in client.get(url("test_run_detail", run.pk)).content.decode()
    # The zone is the page's only: nothing leaks into the rest of the thread.
    assert timezone.get_current_timezone_name() == "UTC"
