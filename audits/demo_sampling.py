"""The demo's sampling: the demo auditor freezes the new hires of the Type I engagement's window
(the year up to its date) and draws a sample from them with a recorded seed."""

from __future__ import annotations

from audits.models import Audit, PopulationKind
from audits.sampling import services
from compliance.models import Organization, User
from compliance.permissions import forget_memberships

DEMO_SEED = 20260401


def seed(*, organization: Organization, users: dict[str, User], audits: list[Audit]) -> None:
    jordan = User.objects.get(pk=users["jordan"].pk)  # fresh: access was granted meanwhile
    forget_memberships(jordan)
    type_1 = next(a for a in audits if a.is_type_1)
    population = services.population_create(
        actor=jordan,
        audit=type_1,
        name="New hires, the year to the Type I date",
        kind=PopulationKind.NEW_HIRES,
    )
    if population.item_count:
        services.sample_draw(actor=jordan, population=population, seed=DEMO_SEED)
