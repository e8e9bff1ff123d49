"""Fill the blocker kinds and evidence due dates of the readiness rows stored before 0007.

Only the blocker sources (compliance.readiness, the one definition of "ready") know a blocker's
kind, and historical models cannot run them, so this step runs the current code: a full
recomputation of each organization, recorded as an "upgrade" run (its repairs are expected and
logged at INFO). Without it, rows with blockers would have no kinds until the nightly run, and
My work, the controls list's `evidence`/`blocker` filters and the dashboard's Blockers card would
miss those controls.

It reads today's models, so it is elidable: a later migration that changes a model readiness
reads (controls, evidence, policies, people, organizations) must squash it away or make it a
no-op, and the upgrade note in docs/readiness.md (run `manage.py recompute_readiness`) applies.
"""

from typing import Any

from django.db import migrations


def recompute_every_organization(apps: Any, schema_editor: Any) -> None:
    """A no-op since compliance 0007 / controls 0012 added fields to models readiness reads
    (today's models no longer match the tables at this point of the history). Upgrading from
    before 0007: run `manage.py recompute_readiness` right after `migrate` (docs/readiness.md,
    "Upgrading")."""


class Migration(migrations.Migration):
    dependencies = [
        ("controls", "0009_control_frequency_change"),
        # Every table the blocker sources read, as the current models describe them.
        ("compliance", "0005_remove_auditevent_audit_event_org_recent_and_more"),
        ("evidence", "0009_revision_effective_date"),
        ("people", "0002_personnelnotice_personnelrecord_personnelrequirement"),
        ("policies", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(
            recompute_every_organization, migrations.RunPython.noop, elidable=True
        ),
    ]
