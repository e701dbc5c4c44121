"""Admin for strategy locks: the policy (what a lock covers) is edited here; its state (engaged or
released, by whom, why) changes only through the engage and release actions."""

from django import forms
from django.contrib import admin

from policies.models import StrategyLock
from policies.services import strategy_lock_engage, strategy_lock_release, strategy_lock_update
from workbench.kit.admin import HistoryAdmin, NoteAdmin, RowAdmin, run_with_reason

STATE_FIELDS = ("engaged", "engaged_at", "engaged_by", "reason")


class ActionListField(forms.CharField):
    """One action per line in the form, a JSON list in the model."""

    widget = forms.Textarea(attrs={"rows": 4, "cols": 60, "placeholder": "github:admin_write\nleads.create"})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(str(item) for item in value)
        return value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        return [line.strip() for line in (value or "").splitlines() if line.strip()]


class StrategyLockForm(forms.ModelForm):
    actions = ActionListField(
        required=False,
        help_text=(
            "One action per line: a connector scope '<connector_id>:<scope>' or a tool 'domain.method'."
        ),
    )

    class Meta:
        model = StrategyLock
        fields = ["name", "description", "connectors", "firearms", "actions"]


@admin.register(StrategyLock)
class StrategyLockAdmin(HistoryAdmin, NoteAdmin, RowAdmin):
    admin_note = (
        "Edit what a lock covers here. Engage or release locks with the actions of this list; "
        "each asks for a reason and is kept in the lock's history."
    )
    form = StrategyLockForm
    list_display = ["name", "engaged", "engaged_at", "engaged_by", "covers", "reason"]
    list_filter = ["engaged"]
    list_select_related = ["engaged_by"]
    search_fields = ["name", "description", "reason"]
    filter_horizontal = ["connectors", "firearms"]
    identity_fields = ("name",)
    readonly_fields = STATE_FIELDS
    fieldsets = [
        (None, {"fields": ["name", "description"]}),
        ("What the lock covers", {"fields": ["connectors", "firearms", "actions"]}),
        ("State (change it with the Engage / Release actions of the lock list)", {"fields": STATE_FIELDS}),
    ]
    actions = ["engage_selected", "release_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("connectors", "firearms")

    @admin.display(description="covers")
    def covers(self, obj):
        parts = [c.connector_id for c in obj.connectors.all()]
        parts += [f.firearm_id for f in obj.firearms.all()]
        parts += list(obj.actions or [])
        return ", ".join(parts) or "-"

    def save_model(self, request, obj, form, change):
        # The coverage is saved here; connectors and firearms follow in save_related, same transaction.
        self.call_service(strategy_lock_update, lock=obj, user=request.user)

    @admin.action(description="Engage selected locks", permissions=["change"])
    def engage_selected(self, request, queryset):
        return run_with_reason(
            self, request, queryset, action="engage_selected",
            apply=lambda lock, reason: strategy_lock_engage(lock=lock, user=request.user, reason=reason),
            title="Engage selected locks", label="Reason",
            help_text="Why: calls the locks cover are refused until they are released.",
            submit="Engage", done="Engaged {count} lock(s).",
        )

    @admin.action(description="Release selected locks", permissions=["change"])
    def release_selected(self, request, queryset):
        return run_with_reason(
            self, request, queryset, action="release_selected",
            apply=lambda lock, reason: strategy_lock_release(lock=lock, user=request.user, reason=reason),
            title="Release selected locks", label="Reason",
            help_text="Why the locks are released; kept in each lock's history.",
            submit="Release", done="Released {count} lock(s).",
        )
