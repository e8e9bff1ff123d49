"""Object policies of the answer library (see compliance.permissions).

Program readers (admin, member, viewer) read the library and the questionnaires. Admins manage
every entry; a member edits the entries they own. Admins and members import and review
questionnaires. Auditors see nothing of it: no engagement scope covers the library.
"""

from __future__ import annotations

from django.db.models import Q

from compliance.models import Membership, Role
from compliance.permissions import PROGRAM_READERS, ObjectPolicy, register_policy, roles
from trust.models import AnswerEntry, Questionnaire, QuestionnaireRow


def _entry_change(membership: Membership) -> Q | None:
    if membership.role == Role.ADMIN:
        return Q()
    if membership.role == Role.MEMBER:
        return Q(owner_id=membership.user_id)
    return None


register_policy(ObjectPolicy(model=AnswerEntry, view=roles(*PROGRAM_READERS), change=_entry_change))
register_policy(
    ObjectPolicy(
        model=Questionnaire, view=roles(*PROGRAM_READERS), change=roles(Role.ADMIN, Role.MEMBER)
    )
)
register_policy(
    ObjectPolicy(
        model=QuestionnaireRow,
        view=roles(*PROGRAM_READERS),
        change=roles(Role.ADMIN, Role.MEMBER),
        organization_field="questionnaire__organization_id",
    )
)
