"""An auditor's populations and samples: a population is a frozen copy of the facts of one kind
(the new hires of the period, the occurrences of a recurring control…) taken from the engagement's
window when it is created, never recomputed; a sample is a reproducible draw from it (the seed is
recorded: the same seed draws the same items)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from audits.models.engagements import Audit


class PopulationKind(models.TextChoices):
    MERGED_PULL_REQUESTS = "merged_prs", "Merged pull requests (GitHub check)"
    NEW_HIRES = "new_hires", "New hires"
    TERMINATIONS = "terminations", "Terminations"
    OCCURRENCES = "occurrences", "Occurrences of a recurring evidence request"
    TEST_RUNS = "test_runs", "Automated test runs"
    VENDOR_REVIEWS = "vendor_reviews", "Vendor reviews"


class Population(models.Model):
    """The items an auditor samples from, as they stood when the population was created."""

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="populations")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=PopulationKind.choices)
    control = models.ForeignKey(
        "controls.Control", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    frozen_at = models.DateTimeField()
    item_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-frozen_at", "-id"]

    def __str__(self) -> str:
        return self.name


class PopulationItem(models.Model):
    """One fact of a population, copied: what it was, when, and its evidence."""

    population = models.ForeignKey(Population, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    label = models.CharField(max_length=500)
    occurred_on = models.DateField()
    evidence = models.ForeignKey(
        "evidence.EvidenceItem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The evidence's revision when the population was frozen (its file, if it is one).
    evidence_revision = models.ForeignKey(
        "evidence.EvidenceRevision",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["population", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["population", "position"], name="population_item_position_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.label


class Sample(models.Model):
    """A draw of ``size`` items from a population with ``random.Random(seed)``."""

    population = models.ForeignKey(Population, on_delete=models.CASCADE, related_name="samples")
    size = models.PositiveIntegerField()
    seed = models.PositiveBigIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(size__gte=1), name="sample_size_positive")
        ]

    def __str__(self) -> str:
        return f"Sample of {self.size} from {self.population}"


class SampleItem(models.Model):
    """A drawn item, in the order it was drawn."""

    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey(PopulationItem, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["sample", "position"]
        constraints = [
            models.UniqueConstraint(fields=["sample", "item"], name="sample_item_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.sample_id}: {self.item_id}"
