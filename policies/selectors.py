"""Reads of policies, versions and acknowledgements, always through the permission choke point
(except :func:`outstanding_acknowledgements`, which the people app calls for its own pages and
which returns only what each person owes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, When
from django.http import Http404

from compliance.models import Organization, User
from compliance.permissions import permitted_ids, restrict
from people.models import Person, active_people_q
from policies.dates import (
    ACKNOWLEDGE_WITHIN_DAYS,
    ack_renewal_date,
    ack_valid_from,
    local_date,
    review_due,
    review_state,
)
from policies.models import (
    Acknowledgement,
    AcknowledgementRequest,
    Distribution,
    Policy,
    PolicyVersion,
    PolicyVersionStatusChange,
    VersionStatus,
)
from policies.services.acknowledgements import scope_q

# --- policies -----------------------------------------------------------------------------------


def _versions_prefetch() -> Prefetch:
    return Prefetch(
        "versions",
        queryset=PolicyVersion.objects.defer("body")
        .select_related("approved_by", "distribution")
        .order_by("-number"),
        to_attr="version_list",
    )


def policy_list(*, user: User, organization: Organization) -> QuerySet[Policy]:
    return (
        restrict(Policy.objects.all(), user, organization=organization)
        .filter(organization=organization)
        .select_related("owner")
        .prefetch_related(_versions_prefetch())
    )


def _int_pk(pk: Any, what: str) -> int:
    try:
        return int(pk)
    except (TypeError, ValueError):
        raise Http404(f"No such {what}.") from None


def policy_get(*, user: User, organization: Organization, pk: Any) -> Policy:
    policy = (
        policy_list(user=user, organization=organization)
        .filter(pk=_int_pk(pk, "policy"))
        .select_related("organization")
        .prefetch_related(
            "controls",
            Prefetch("requirements", queryset=_requirement_queryset()),
        )
        .first()
    )
    if policy is None:
        raise Http404("No such policy.")
    return policy


def _requirement_queryset() -> Any:
    from controls.models import Requirement

    return Requirement.objects.select_related("framework").order_by("framework__name", "order")


def version_get(*, user: User, policy: Policy, number: Any) -> PolicyVersion:
    """A version of a policy the user can see (the policy was read through the choke point)."""
    version = (
        restrict(PolicyVersion.objects.all(), user, organization=policy.organization)
        .filter(policy=policy, number=_int_pk(number, "version"))
        .select_related("approved_by", "created_by", "distribution__sent_by")
        .prefetch_related(
            Prefetch(
                "status_changes",
                queryset=PolicyVersionStatusChange.objects.select_related("actor"),
            )
        )
        .first()
    )
    if version is None:
        raise Http404("No such version.")
    version.policy = policy
    return version


def previous_version(version: PolicyVersion) -> PolicyVersion | None:
    return (
        PolicyVersion.objects.filter(policy_id=version.policy_id, number__lt=version.number)
        .order_by("-number")
        .first()
    )


def policy_history(*, policy: Policy) -> QuerySet[PolicyVersionStatusChange]:
    return (
        PolicyVersionStatusChange.objects.filter(version__policy=policy)
        .select_related("actor", "version")
        .order_by("-created_at", "-id")
    )


def policy_changeable_ids(
    *, user: User, organization: Organization, ids: Iterable[int] | None = None
) -> set[int]:
    """Which policies the user may work on (one query for a whole page)."""
    queryset = Policy.objects.filter(
        pk__in=permitted_ids(user, Policy, "change", organization=organization)
    )
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    return set(queryset.values_list("pk", flat=True))


def version_can_change(*, user: User, version: PolicyVersion, organization: Organization) -> bool:
    return PolicyVersion.objects.filter(
        pk=version.pk,
        id__in=permitted_ids(user, PolicyVersion, "change", organization=organization),
    ).exists()


# --- rows of the list and the detail page -------------------------------------------------------


@dataclass
class AckSummary:
    in_scope: int = 0
    done: int = 0

    @property
    def outstanding(self) -> int:
        return self.in_scope - self.done

    @property
    def percent(self) -> int:
        return (100 * self.done // self.in_scope) if self.in_scope else 0


@dataclass
class PolicyRow:
    policy: Policy
    current: PolicyVersion | None
    latest: PolicyVersion | None
    open: PolicyVersion | None
    review_due: dt.date | None
    review_state: str
    acks: AckSummary | None  # None: the current version was not sent

    @property
    def status(self) -> str:
        """The policy's state for lists: its current version's, else its latest version's."""
        if self.current is not None:
            return VersionStatus.APPROVED
        return self.latest.status if self.latest is not None else VersionStatus.DRAFT


def policy_rows(
    *, policies: Sequence[Policy], organization: Organization, today: dt.date
) -> list[PolicyRow]:
    """Current/latest versions and review dates from the prefetched versions, acknowledgement
    figures in three queries for the whole list."""
    rows = []
    for policy in policies:
        versions: list[PolicyVersion] = getattr(policy, "version_list", None) or list(
            policy.versions.defer("body").order_by("-number")
        )
        current = next((v for v in versions if v.status == VersionStatus.APPROVED), None)
        open_version = next(
            (v for v in versions if v.status in (VersionStatus.DRAFT, VersionStatus.IN_REVIEW)),
            None,
        )
        due = review_due(
            effective_date=current.effective_date if current else None,
            last_reviewed_on=policy.last_reviewed_on,
            review_months=policy.review_months,
        )
        rows.append(
            PolicyRow(
                policy=policy,
                current=current,
                latest=versions[0] if versions else None,
                open=open_version,
                review_due=due,
                review_state=review_state(due, today),
                acks=None,
            )
        )
    summaries = acknowledgement_summary(
        organization=organization,
        versions=[row.current for row in rows if row.current is not None],
        today=today,
    )
    for row in rows:
        if row.current is not None:
            row.acks = summaries.get(row.current.pk)
    return rows


def _distributions(versions: Sequence[PolicyVersion]) -> dict[int, Distribution]:
    """Distributions of the versions (from select_related when loaded, else one query)."""
    found: dict[int, Distribution] = {}
    missing = []
    for version in versions:
        if "distribution" in version._state.fields_cache:
            distribution = version._state.fields_cache["distribution"]
            if distribution is not None:
                found[version.pk] = distribution
        else:
            missing.append(version.pk)
    if missing:
        for distribution in Distribution.objects.filter(version_id__in=missing):
            found[distribution.version_id] = distribution
    return found


def acknowledgement_summary(
    *, organization: Organization, versions: Sequence[PolicyVersion], today: dt.date
) -> dict[int, AckSummary]:
    """People in scope and how many of them acknowledged, per sent version."""
    distributions = _distributions(versions)
    if not distributions:
        return {}
    people = list(
        Person.objects.filter(active_people_q(today), organization=organization).values_list(
            "pk", "employment_type", "department"
        )
    )
    valid = set(
        Acknowledgement.objects.filter(
            version_id__in=list(distributions),
            acknowledged_at__gte=ack_valid_from(organization, today),
        ).values_list("version_id", "person_id")
    )
    summaries: dict[int, AckSummary] = {}
    for version_id, distribution in distributions.items():
        summary = AckSummary()
        for person_id, employment_type, department in people:
            if _matches(distribution, employment_type, department):
                summary.in_scope += 1
                summary.done += (version_id, person_id) in valid
        summaries[version_id] = summary
    return summaries


def _matches(distribution: Distribution, employment_type: str, department: str) -> bool:
    return (
        not distribution.employment_type or employment_type == distribution.employment_type
    ) and (not distribution.department or department.lower() == distribution.department.lower())


# --- who has and has not acknowledged -----------------------------------------------------------

ACK_STATES = ("all", "done", "outstanding")
ACK_ORDERING = {
    "name": ("full_name", "pk"),
    "department": ("department", "full_name", "pk"),
    "status": ("ack_done", "full_name", "pk"),
    "acknowledged": ("last_acknowledged_at", "full_name", "pk"),
    "asked": ("last_asked_at", "full_name", "pk"),
}


def acknowledgement_people(
    *,
    version: PolicyVersion,
    distribution: Distribution,
    organization: Organization,
    today: dt.date,
    state: str = "all",
    sort: str = "",
) -> tuple[QuerySet[Person], str]:
    """The people in scope of a sent version with their latest acknowledgement and request,
    filtered by ``state`` and sorted by a whitelisted key (``name``, ``-acknowledged``…)."""
    valid_from = ack_valid_from(organization, today)
    latest_ack = Acknowledgement.objects.filter(version=version, person=OuterRef("pk")).order_by(
        "-acknowledged_at"
    )
    queryset = (
        Person.objects.filter(
            active_people_q(today),
            scope_q(
                employment_type=distribution.employment_type, department=distribution.department
            ),
            organization=organization,
        )
        .annotate(
            last_acknowledged_at=Subquery(latest_ack.values("acknowledged_at")[:1]),
            last_via=Subquery(latest_ack.values("via")[:1]),
            last_asked_at=Subquery(
                AcknowledgementRequest.objects.filter(version=version, person=OuterRef("pk"))
                .order_by("-sent_at")
                .values("sent_at")[:1]
            ),
        )
        .annotate(
            ack_done=Case(
                When(last_acknowledged_at__gte=valid_from, then=1),
                default=0,
                output_field=IntegerField(),
            )
        )
    )
    if state == "done":
        queryset = queryset.filter(ack_done=1)
    elif state == "outstanding":
        queryset = queryset.filter(ack_done=0)
    sort = (sort or "").strip()
    key = sort.lstrip("-")
    if key not in ACK_ORDERING:
        key, sort = "name", "name"
    descending = sort.startswith("-")
    ordering: list[Any] = []
    for name in ACK_ORDERING[key]:
        if name in ("last_acknowledged_at", "last_asked_at"):
            expression = queryset.query.annotations[name]
            ordering.append(
                expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
            )
        else:
            ordering.append(f"-{name}" if descending else name)
    return queryset.order_by(*ordering), sort


# --- the people app's question, and "my" acknowledgements ---------------------------------------


def outstanding_acknowledgements(
    *,
    organization: Organization,
    person_ids: Sequence[int],
    today: dt.date,
    as_of: dt.datetime | None = None,
) -> dict[int, list[OwedAcknowledgement]]:
    """For each given person, the current approved policy versions in their scope they still
    have to acknowledge, soonest due first (empty = up to date). Four queries, whatever the
    number of people.

    In scope: the version was sent, the person is active on ``today`` (so a version sent before
    someone started counts from their first day) and matches the distribution's filters. A
    person who is not active, or not of this organization, owes nothing.

    ``as_of`` (an aware datetime whose local date is ``today``) asks what was owed at that past
    moment: the versions approved and not retired then, sent by then, and the requests and
    acknowledgements made by then.
    """
    result: dict[int, list[OwedAcknowledgement]] = {int(pid): [] for pid in person_ids}
    if not result:
        return result
    people = list(
        Person.objects.filter(
            active_people_q(today), organization=organization, pk__in=list(result)
        ).only("pk", "organization_id", "start_date", "end_date", "employment_type", "department")
    )
    result.update(
        _owed_by_person(organization=organization, people=people, today=today, as_of=as_of)
    )
    return result


def person_for_user(*, user: User, organization: Organization) -> Person | None:
    """The roster entry of the signed-in user: linked to the account, else the same email."""
    if not user.is_authenticated:
        return None
    return (
        Person.objects.filter(Q(user=user) | Q(email__iexact=user.email), organization=organization)
        .annotate(linked=Case(When(user=user, then=0), default=1, output_field=IntegerField()))
        .order_by("linked", "pk")
        .first()
    )


@dataclass(frozen=True)
class OwedAcknowledgement:
    version: PolicyVersion
    due_date: dt.date
    renewal: bool


def owed_acknowledgements(
    *, person: Person, organization: Organization, today: dt.date
) -> list[OwedAcknowledgement]:
    """Current versions this person still has to acknowledge, soonest due first (three
    queries). Due: 30 days after they were asked (or sent, or started), or on the day a
    year-old acknowledgement runs out."""
    if not person.is_active_on(today):
        return []
    return _owed_by_person(organization=organization, people=[person], today=today)[person.pk]


def _owed_by_person(
    *,
    organization: Organization,
    people: Sequence[Person],
    today: dt.date,
    as_of: dt.datetime | None = None,
) -> dict[int, list[OwedAcknowledgement]]:
    """What each of these (active) people owes, in three queries however many they are (at the
    past moment ``as_of``, when given)."""
    owed: dict[int, list[OwedAcknowledgement]] = {p.pk: [] for p in people}
    if not people:
        return owed
    current = Q(status=VersionStatus.APPROVED)
    made: dict[str, Any] = {}  # what was recorded by then
    if as_of is not None:
        current = Q(approved_at__lte=as_of, distribution__sent_at__lte=as_of) & (
            Q(retired_at__isnull=True) | Q(retired_at__gt=as_of)
        )
        made = {"acknowledged_at__lte": as_of}
    versions = list(
        PolicyVersion.objects.filter(
            current,
            policy__organization=organization,
            distribution__isnull=False,
        )
        .defer("body")
        .select_related("policy", "distribution")
    )
    if not versions:
        return owed
    person_ids = [p.pk for p in people]
    acks: dict[tuple[int, int], dt.datetime] = {}
    for person_id, version_id, acknowledged_at in Acknowledgement.objects.filter(
        person_id__in=person_ids, version__in=versions, **made
    ).values_list("person_id", "version_id", "acknowledged_at"):
        key = (person_id, version_id)
        acks[key] = max(acks.get(key, acknowledged_at), acknowledged_at)
    asked: dict[tuple[int, int], dt.datetime] = {}
    for person_id, version_id, sent_at in AcknowledgementRequest.objects.filter(
        person_id__in=person_ids,
        version__in=versions,
        **({} if as_of is None else {"sent_at__lte": as_of}),
    ).values_list("person_id", "version_id", "sent_at"):
        key = (person_id, version_id)
        asked[key] = max(asked.get(key, sent_at), sent_at)
    valid_from = ack_valid_from(organization, today)
    for person in people:
        mine = owed[person.pk]
        for version in versions:
            if not _matches(version.distribution, person.employment_type, person.department):
                continue
            last = acks.get((person.pk, version.pk))
            if last is not None and last >= valid_from:
                continue
            if last is not None:
                due = ack_renewal_date(organization, last)
            else:
                start = local_date(organization, version.distribution.sent_at)
                if (person.pk, version.pk) in asked:
                    start = local_date(organization, asked[(person.pk, version.pk)])
                start = max(start, person.start_date)
                due = start + dt.timedelta(days=ACKNOWLEDGE_WITHIN_DAYS)
            mine.append(OwedAcknowledgement(version, due, renewal=last is not None))
        mine.sort(key=lambda o: (o.due_date, o.version.policy.title))
    return owed


def acknowledgement_list(*, user: User, organization: Organization) -> QuerySet[Acknowledgement]:
    return (
        restrict(Acknowledgement.objects.all(), user, organization=organization)
        .filter(version__policy__organization=organization)
        .select_related("person", "version", "user")
    )
