"""Each existing item's latest revision and its review status, in one statement: the newest
revision of every item (by number) written onto the item. Items without a revision keep NULL
and "". Going back needs nothing: 0007's reversal drops the two columns."""

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


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0007_latest_revision"),
    ]

    operations = [
        migrations.RunSQL(FILL, reverse_sql=migrations.RunSQL.noop, elidable=True),
    ]
