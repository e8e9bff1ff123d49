"""Factories of the people app."""

from __future__ import annotations

import datetime as dt

import factory

from people.models import EmploymentType, Person, PersonnelRecord
from tests.factories import OrganizationFactory


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    organization = factory.SubFactory(OrganizationFactory)
    full_name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"person{n}@example.test")
    title = "Engineer"
    department = "Engineering"
    employment_type = EmploymentType.EMPLOYEE
    start_date = factory.LazyFunction(lambda: dt.date(2024, 1, 15))


class RecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PersonnelRecord

    person = factory.SubFactory(PersonFactory)
    kind = "agreement"
    completed_on = factory.LazyAttribute(lambda o: o.person.start_date)
