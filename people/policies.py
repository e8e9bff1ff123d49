"""Object policies of the personnel roster (see compliance.permissions).

Program readers (admins, members, viewers) see everyone, as they see the rest of the program;
only admins change anything (their role has Capability.MANAGE_PEOPLE). Auditors see nothing
until the audits app grants them an engagement.
"""

from __future__ import annotations

from compliance.models import Role
from compliance.permissions import PROGRAM_READERS, ObjectPolicy, register_policy, roles
from people.models import Person, PersonnelRecord, PersonnelRequirement

register_policy(ObjectPolicy(model=Person, view=roles(*PROGRAM_READERS), change=roles(Role.ADMIN)))
register_policy(
    ObjectPolicy(
        model=PersonnelRecord,
        view=roles(*PROGRAM_READERS),
        change=roles(Role.ADMIN),
        organization_field="person__organization_id",
    )
)
register_policy(
    ObjectPolicy(model=PersonnelRequirement, view=roles(*PROGRAM_READERS), change=roles(Role.ADMIN))
)
