"""Workbench drafts: a connector being defined, scoped and given policy before it is published.

The content (`spec_snapshot`, `policy_snapshot`) has the shape of PRODUCT.md section 4. `revision`
counts content changes; a save based on an older revision is refused (services/drafts/revisions.py).
"""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.dispatch import receiver
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from workbench.kit import identifiers as ids
from workbench.kit.models import NaturalKeyModel

from .snapshots import DraftHistoryContent, store_snapshots

DRAFT_ID = r"^draft_[0-9a-f]{8,32}$"


def new_draft_id():
    return f"draft_{secrets.token_hex(6)}"


class WorkbenchDraft(NaturalKeyModel):
    class Stage(models.TextChoices):
        DEFINITION = "definition", "definition"
        SCOPING = "scoping", "scoping"
        POLICY = "policy", "policy"
        VERIFICATION = "verification", "verification"

    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        PUBLISHED = "published", "published"
        ABANDONED = "abandoned", "abandoned"

    NATURAL_KEY = ("id",)

    id = models.CharField(primary_key=True, max_length=40, default=new_draft_id, editable=False)
    tenant = models.ForeignKey("workbench.Tenant", on_delete=models.PROTECT, related_name="drafts")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="workbench_drafts"
    )
    connector_id = models.CharField(max_length=63, validators=[ids.validate_connector_id])
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.DEFINITION)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    spec_snapshot = models.JSONField(default=dict, blank=True, help_text="The MCP contract being drafted.")
    policy_snapshot = models.JSONField(
        default=dict, blank=True, help_text="Firearm decisions and KPIs per scope."
    )
    revision = models.PositiveIntegerField(default=1)
    # Who wrote the current revision and when: named when a stale save is refused, and the
    # review rule (WORKBENCH_REQUIRE_REVIEW) compares it with the publisher.
    revised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revised_at = models.DateTimeField(null=True, blank=True)
    validation_passed = models.BooleanField(null=True, blank=True, help_text="Empty: never validated.")
    validation_findings = models.JSONField(default=list, blank=True)
    validated_revision = models.PositiveIntegerField(null=True, blank=True)
    validated_at = models.DateTimeField(null=True, blank=True)
    validated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_version = models.CharField(max_length=32, blank=True)
    published_spec = models.ForeignKey(
        "registries.ComponentSpec", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Everyone who saved a content change (spec or policy): under four-eyes review (WORKBENCH_REQUIRE_REVIEW)
    # none of them publishes it. A draft is published once, so this is "since the last publish".
    authors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", blank=True)
    # The snapshots are kept by digest (DraftHistoryContent, services/drafts/snapshots.py), not copied.
    history = HistoricalRecords(
        excluded_fields=["spec_snapshot", "policy_snapshot"], bases=[DraftHistoryContent]
    )

    class Meta:
        verbose_name = "workbench draft"
        ordering = ["-revised_at", "id"]
        permissions = [("publish_workbenchdraft", "Can publish workbench drafts")]
        constraints = [
            models.CheckConstraint(
                condition=ids.matches("id", DRAFT_ID),
                name="workbenchdraft_id_format",
                violation_error_message="Draft id must look like draft_<hex>.",
            ),
            models.CheckConstraint(
                condition=ids.matches("connector_id", ids.CONNECTOR_ID),
                name="workbenchdraft_connector_id_format",
                violation_error_message="Connector id has an invalid format.",
            ),
            models.CheckConstraint(
                condition=models.Q(stage__in=["definition", "scoping", "policy", "verification"]),
                name="workbenchdraft_stage_known",
                violation_error_message="Stage must be definition, scoping, policy or verification.",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "published", "abandoned"]),
                name="workbenchdraft_status_known",
                violation_error_message="Status must be draft, published or abandoned.",
            ),
            models.CheckConstraint(
                condition=models.Q(revision__gte=1),
                name="workbenchdraft_revision_positive",
                violation_error_message="Revision starts at 1.",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "status"]), models.Index(fields=["connector_id"])]

    def __str__(self):
        return f"{self.id} ({self.connector_id} {self.version or '?'}, rev {self.revision})"

    @property
    def version(self):
        spec = self.spec_snapshot if isinstance(self.spec_snapshot, dict) else {}
        return spec.get("version", "")

    @property
    def name(self):
        spec = self.spec_snapshot if isinstance(self.spec_snapshot, dict) else {}
        return spec.get("name", "")

    @property
    def validation_is_current(self):
        return self.validated_revision == self.revision and self.validation_passed is not None

    @property
    def publishable(self):
        return (
            self.status == self.Status.DRAFT
            and self.stage == self.Stage.VERIFICATION
            and self.validation_is_current
            and bool(self.validation_passed)
        )

    @property
    def stage_moves(self):
        return stage_moves(self.stage)

    @property
    def stage_lacks(self):
        """What the current stage (and the ones before it) still lacks: the errors of the stored validation
        that belong to those stages. Each finding names its stage (services/drafts/validation.py); a
        finding stored before findings had one counts as the last stage's."""
        reached = stage_index(self.stage)
        return [
            item
            for item in self.validation_findings or []
            if isinstance(item, dict)
            and item.get("severity") == "error"
            and stage_index(item.get("stage"), default=len(STAGE_PATH) - 1) <= reached
        ]

    def clean(self):
        super().clean()
        if not isinstance(self.spec_snapshot, dict):
            raise ValidationError({"spec_snapshot": "The spec snapshot must be a JSON object."})
        if not isinstance(self.policy_snapshot, dict):
            raise ValidationError({"policy_snapshot": "The policy snapshot must be a JSON object."})
        if not isinstance(self.validation_findings, list):
            raise ValidationError({"validation_findings": "Findings must be a list."})


@receiver(pre_create_historical_record)
def _history_row_refers_to_snapshots(sender, instance, history_instance, **kwargs):
    """Every history row of a draft, whichever save writes it, points at its stored snapshots."""
    if isinstance(instance, WorkbenchDraft):
        ((spec_digest, policy_digest),) = store_snapshots([instance])
        history_instance.spec_content_id, history_instance.policy_content_id = spec_digest, policy_digest


#: The stages in path order (CONTRACT B3: "definition, scoping, policy, verification").
STAGE_PATH = tuple(WorkbenchDraft.Stage.values)


def stage_index(stage, *, default=0):
    return STAGE_PATH.index(stage) if stage in STAGE_PATH else default


def stage_moves(current):
    """The stages a draft at `current` may be saved at: any earlier stage, the current one, or the next
    one. A draft moves one stage forward at a time, or back to any earlier stage."""
    return list(STAGE_PATH[: stage_index(current) + 2])
