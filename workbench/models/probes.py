"""Sandbox probes: one run of a connector's real package (or remote server), isolated, reading what it
serves (`initialize`, then `tools/list`). A probe either onboards a connector (kind `import`: on success
it creates a draft from the live tools) or checks a draft's declared tools against the live ones (kind
`check`: findings stored against the revision it probed).

A probe is a row first (queued) and background work second (services/probes): whoever asked reads the
row, never the task backend's. A running probe has a deadline; one still running past it was lost with
its worker and is marked failed (`probes_recover`), as is a queued one whose task is gone or that no
worker started in time, so none stays running or queued forever.
"""

import secrets

from django.conf import settings
from django.db import models

from workbench.kit import identifiers as ids
from workbench.kit.models import free_text

PROBE_ID = r"^probe_[0-9a-f]{8,32}$"
#: What a probe keeps of the server's stderr: its end, where the error usually is.
STDERR_TAIL_LIMIT = 8000
REASON_LIMIT = 2000


def new_probe_id():
    return f"probe_{secrets.token_hex(6)}"


class Probe(models.Model):
    class Kind(models.TextChoices):
        IMPORT = "import", "import"
        CHECK = "check", "check"

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    class RegistryType(models.TextChoices):
        PYPI = "pypi", "pypi"
        NPM = "npm", "npm"
        REMOTE = "remote", "remote"
        LOCAL = "local", "local"

    FINISHED = (Status.SUCCEEDED, Status.FAILED)

    id = models.CharField(primary_key=True, max_length=40, default=new_probe_id, editable=False)
    tenant = models.ForeignKey("workbench.Tenant", on_delete=models.PROTECT, related_name="probes")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="workbench_probes"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # The target: a package (registry_type pypi/npm, identifier, exact version, optional bin), a remote
    # server (url) or, in tests only, a local file (identifier: its path; WORKBENCH_PROBE_LOCAL_PATHS).
    registry_type = models.CharField(max_length=8, choices=RegistryType.choices)
    identifier = models.CharField(max_length=214, blank=True)
    version = models.CharField(max_length=64, blank=True)
    url = models.CharField(max_length=2000, blank=True)
    bin = models.CharField(max_length=214, blank=True)
    # import: the connector the draft is created for; check: the draft's.
    connector_id = models.CharField(max_length=63, validators=[ids.validate_connector_id])
    draft = models.ForeignKey(
        "workbench.WorkbenchDraft", null=True, blank=True, on_delete=models.CASCADE, related_name="probes"
    )
    draft_revision = models.PositiveIntegerField(null=True, blank=True)
    created_draft = models.ForeignKey(
        "workbench.WorkbenchDraft", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    reason = free_text(REASON_LIMIT, blank=True)
    server_name = models.CharField(max_length=200, blank=True)
    server_version = models.CharField(max_length=100, blank=True)
    protocol_version = models.CharField(max_length=40, blank=True)
    isolated = models.BooleanField(null=True, blank=True)
    tools = models.JSONField(default=list, blank=True)
    timing = models.JSONField(default=dict, blank=True)
    stderr_tail = free_text(STDERR_TAIL_LIMIT, blank=True)
    findings = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True, help_text="started_at plus the probe's limits.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        # No permissions of its own: a probe is part of a draft's life. Reading one takes the drafts' view
        # permission, starting an import their add permission, checking a draft their change permission.
        default_permissions = ()
        constraints = [
            models.CheckConstraint(
                condition=ids.matches("id", PROBE_ID),
                name="probe_id_format",
                violation_error_message="Probe id must look like probe_<hex>.",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["import", "check"]),
                name="probe_kind_known",
                violation_error_message="Kind must be import or check.",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "running", "succeeded", "failed"]),
                name="probe_status_known",
                violation_error_message="Status must be queued, running, succeeded or failed.",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="check")
                | models.Q(draft__isnull=False, draft_revision__isnull=False),
                name="probe_check_names_its_revision",
                violation_error_message="A check probes one revision of a draft.",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at"]),
            models.Index(fields=["draft", "draft_revision", "-created_at"]),
            models.Index(fields=["status", "deadline_at"]),
        ]

    def __str__(self):
        return f"{self.id} ({self.kind} {self.target_label}, {self.status})"

    @property
    def target_label(self):
        if self.registry_type == self.RegistryType.REMOTE:
            return self.url
        return f"{self.registry_type} {self.identifier}" + (f"=={self.version}" if self.version else "")

    @property
    def finished(self):
        return self.status in self.FINISHED

    @property
    def error_findings(self):
        return [item for item in self.findings or [] if item.get("severity") == "error"]

    @property
    def passed(self):
        """A passing probe: it ran, and found no declared tool missing and no served tool undeclared."""
        return self.status == self.Status.SUCCEEDED and not self.error_findings
