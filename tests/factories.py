"""factory-boy factories. Tests build their own catalogs; nothing relies on seeded data."""

from __future__ import annotations

import datetime as dt
from functools import cache

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from compliance.models import Membership, Organization, Role, User
from controls.models import (
    AdoptedFramework,
    Control,
    ControlRequirement,
    Framework,
    FrameworkCategory,
    Requirement,
)

PASSWORD = "correct horse battery staple"


@cache
def _password_hash() -> str:
    # Argon2 once per session, not once per user.
    return make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.LazyFunction(_password_hash)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    time_zone = "UTC"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.MEMBER


class FrameworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Framework

    key = factory.Sequence(lambda n: f"urn:test:framework:fw{n}")
    slug = factory.Sequence(lambda n: f"fw{n}")
    name = factory.Sequence(lambda n: f"Test framework {n}")
    short_name = factory.Sequence(lambda n: f"FW{n}")
    version = 1
    content_sha256 = "0" * 64


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FrameworkCategory

    framework = factory.SubFactory(FrameworkFactory)
    code = factory.Sequence(lambda n: f"C{n}")
    name = factory.Sequence(lambda n: f"Category {n}")
    mandatory = True


class RequirementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Requirement

    category = factory.SubFactory(CategoryFactory)
    framework = factory.SelfAttribute("category.framework")
    ref_id = factory.Sequence(lambda n: f"R{n}.1")
    key = factory.LazyAttribute(lambda o: f"{o.framework.key}:{o.ref_id.lower()}")
    title = factory.Sequence(lambda n: f"Requirement {n}")
    description = "What this requirement expects."
    order = factory.Sequence(lambda n: n)


class ControlFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Control

    organization = factory.SubFactory(OrganizationFactory)
    ref_id = factory.Sequence(lambda n: f"CTL-{n:03d}")
    name = factory.Sequence(lambda n: f"Control {n}")
    category = "access"
    # Event-driven controls need no evidence to be ready, so tests about other things are not
    # coupled to evidence; the evidence tests choose their frequencies.
    frequency = "event_driven"


def adopt(
    organization: Organization, framework: Framework, *categories: FrameworkCategory
) -> AdoptedFramework:
    adoption = AdoptedFramework.objects.create(organization=organization, framework=framework)
    adoption.scope.set(categories or framework.categories.all())
    return adoption


def map_control(control: Control, *requirements: Requirement) -> None:
    for requirement in requirements:
        ControlRequirement.objects.create(control=control, requirement=requirement)


def days_from_now(days: int) -> dt.datetime:
    return timezone.now() + dt.timedelta(days=days)


def recompute(*organizations: Organization) -> None:
    """Bring the stored readiness up to date after building data with factories (which bypass
    the services that keep it current), as `manage.py recompute_readiness` does after a bulk
    load. Call it before reading a page that shows readiness."""
    from compliance.readiness import recompute_readiness

    for organization in organizations or Organization.objects.all():
        recompute_readiness(organization=organization, trigger="test")
