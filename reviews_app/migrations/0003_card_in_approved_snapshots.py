from django.db import migrations

CARD_FIELDS = ("summary", "description", "task", "framework", "license", "tags")
BATCH = 1000


def complete_snapshots(apps, schema_editor):
    """Approvals kept only summary, license and task of the card; complete the rest from the
    card the version now carries (models_app 0007), so the next review's diff compares the
    whole card instead of showing every other field as added."""
    Review = apps.get_model("reviews_app", "Review")
    approvals = Review.objects.filter(decision="approve").exclude(approved_snapshot={}).select_related("version")
    batch = []
    for review in approvals.order_by("pk").iterator(chunk_size=BATCH):
        snapshot = dict(review.approved_snapshot)
        metadata = dict(snapshot.get("metadata") or {})
        card = review.version.card or {}
        missing = {name: card[name] for name in CARD_FIELDS if name not in metadata and name in card}
        if not missing:
            continue
        snapshot["metadata"] = metadata | missing
        review.approved_snapshot = snapshot
        batch.append(review)
        if len(batch) >= BATCH:
            Review.objects.bulk_update(batch, ["approved_snapshot"])
            batch = []
    if batch:
        Review.objects.bulk_update(batch, ["approved_snapshot"])


class Migration(migrations.Migration):
    dependencies = [("reviews_app", "0002_reviewers_group"), ("models_app", "0007_review_promise")]
    operations = [migrations.RunPython(complete_snapshots, migrations.RunPython.noop)]
