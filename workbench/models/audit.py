"""The audit trail: one append-only row per security event (sign-ins, lockouts, API tokens, group,
permission, membership and role changes, platform-scope writes).

A row is written by `workbench.services.audit.audit_record`, in the transaction of the change it records,
and never changed afterwards: saving a stored row, deleting one, and bulk update or delete through the
ORM are refused. The one deleter is the retention purge (`manage.py purge_security_events`), through
`SecurityEvent.objects.purge`. There is no database trigger: whoever holds the database's credentials can
rewrite any table anyway, so the guard is the ORM, a read-only admin and no write endpoint.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

#: Caps of what one event keeps: a hostile client chooses the username it fails with and its User-Agent.
USERNAME_LIMIT = 150
SUBJECT_LIMIT = 300
USER_AGENT_LIMIT = 300
#: The largest `detail`, as compact JSON; a bigger one is replaced by a note saying so.
DETAIL_LIMIT = 4000


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete a recorded security event."""


class SecurityEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Security events are append-only: they are never updated.")

    def delete(self):
        raise AppendOnlyError("Security events are append-only: only the retention purge deletes them.")

    delete.queryset_only = True

    def purge(self):
        """Delete these rows: the retention purge's one way past append-only. Returns the count."""
        # Nothing points at an event, so a plain delete query is the whole of it (no collector walk).
        return models.QuerySet._raw_delete(self, self.db)


class SecurityEvent(models.Model):
    class Kind(models.TextChoices):
        LOGIN_SUCCEEDED = "login_succeeded", "login succeeded"
        LOGIN_FAILED = "login_failed", "login failed"
        LOCKED_OUT = "locked_out", "locked out"
        UNLOCKED = "unlocked", "unlocked"
        TOKEN_CREATED = "token_created", "API token created"
        TOKEN_REVOKED = "token_revoked", "API token revoked"
        GROUP_CHANGED = "group_changed", "group changed"
        PERMISSION_CHANGED = "permission_changed", "permission changed"
        MEMBERSHIP_CHANGED = "membership_changed", "membership changed"
        ROLE_CHANGED = "role_changed", "role changed"
        PLATFORM_WRITE = "platform_write", "platform-scope write"

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    kind = models.CharField(max_length=32, choices=Kind.choices, db_index=True)
    # The actor's name stays readable after the user is deleted (the foreign key then turns empty).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_username = models.CharField(max_length=USERNAME_LIMIT, blank=True, db_index=True)
    subject = models.CharField(
        max_length=SUBJECT_LIMIT, blank=True, help_text="The user, group, token or row concerned."
    )
    # The tenant whose members may read the event; none: auditors and platform staff only.
    tenant = models.ForeignKey(
        "workbench.Tenant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ip = models.GenericIPAddressField(null=True, blank=True, verbose_name="IP address")
    user_agent = models.CharField(max_length=USER_AGENT_LIMIT, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    objects = SecurityEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "security event"
        verbose_name_plural = "security events"
        indexes = [models.Index(fields=["tenant", "at"], name="securityevent_tenant_at")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    kind__in=[
                        "login_succeeded",
                        "login_failed",
                        "locked_out",
                        "unlocked",
                        "token_created",
                        "token_revoked",
                        "group_changed",
                        "permission_changed",
                        "membership_changed",
                        "role_changed",
                        "platform_write",
                    ]
                ),
                name="securityevent_kind_known",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.subject} at {self.at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Security events are append-only: a recorded event never changes.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Security events are append-only: only the retention purge deletes them.")
