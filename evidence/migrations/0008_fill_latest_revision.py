"""Each existing item's latest revision and its review status, in one statement: the newest
revision of every item (by number) written onto the item. Items without a revision keep NULL
and "". Going back needs nothing: 0007's reversal drops the two columns.

PostgreSQL gets one pass with DISTINCT ON; SQLite (the embedded default of `make run`), which
has no DISTINCT ON nor UPDATE ... FROM in every version, the same with correlated subqueries."""

from typing import Any

from django.db import migrations

FILL = """
UPDATE evidence_evidenceitem AS item
SET latest_revision_id = latest.id, review_status = latest.review_status
FROM (
    SELECT DISTINCT ON (item_id) item_id, id, review_status
    FROM evidence_evidencerevision
    ORDER BY item_id, number DESC
) AS latest
WHERE latest.item_id = item.id
"""


PORTABLE = """
UPDATE evidence_evidenceitem
SET latest_revision_id = (
        SELECT r.id FROM evidence_evidencerevision r
        WHERE r.item_id = evidence_evidenceitem.id ORDER BY r.number DESC LIMIT 1
    ),
    review_status = (
        SELECT r.review_status FROM evidence_evidencerevision r
        WHERE r.item_id = evidence_evidenceitem.id ORDER BY r.number DESC LIMIT 1
    )
WHERE EXISTS (
    SELECT 1 FROM evidence_evidencerevision r WHERE r.item_id = evidence_evidenceitem.id
)
"""


def fill(apps: Any, schema_editor: Any) -> None:
    sql = FILL if schema_editor.connection.vendor == "postgresql" else PORTABLE
    schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0007_latest_revision"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
