"""The draft card page: its fields, the tools x scopes grid and the stage path; a save goes through
draft_update. Who may only view the draft sees it as text, and is told it is their role."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse

from workbench.kit.admin import page_context
from workbench.kit.refusals import Refusal
from workbench.models import WorkbenchDraft
from workbench.models.drafts import STAGE_PATH, stage_index
from workbench.selectors.drafts import drafts_editable_by
from workbench.services.drafts import draft_update

from .forms import PACKAGING_FIELDS, CardForm, firearm_choices, kpi_choices
from .grid import HINTS, Grid
from .grid_rows import tool_rows_html
from .views import _card_url, _validate_and_report, get_draft


def _save_card(request, draft, card, grid):
    spec = dict(draft.spec_snapshot or {})
    spec["version"] = card.cleaned_data["version"]
    spec["description"] = card.cleaned_data["description"]
    spec["packaging"] = card.packaging(spec.get("packaging"))
    # A non-object stored before the service refused them is replaced (the revision's diff shows it).
    spec["portability"] = card.portability_value(spec.get("portability"))
    if card.cleaned_data["skills"] or "skills" in spec:
        spec["skills"] = card.cleaned_data["skills"]
    if grid.editable:
        spec["tools"] = grid.tools()
        spec["scopes"] = grid.scopes()
    changes = {"spec_snapshot": spec, "policy_snapshot": grid.policy(), "stage": card.cleaned_data["stage"]}
    if draft.status != WorkbenchDraft.Status.PUBLISHED:
        changes["status"] = card.cleaned_data["status"]
    return draft_update(
        draft_id=draft.pk,
        user=request.user,
        base_revision=card.cleaned_data["base_revision"],
        changes=changes,
        reason=card.cleaned_data.get("reason") or "edited in the admin",
    )


def _read_only_reason(model_admin, request, draft):
    """Why this user cannot change this draft, or "" when they can: their role first, then the status."""
    if not model_admin.has_change_permission(request, draft):
        return "You can view this draft; changing drafts needs the permission to change them."
    if not drafts_editable_by(request.user).filter(pk=draft.pk).exists():
        return (
            f"You can view this draft; changing it needs the editor or owner role in {draft.tenant}."
        )
    if draft.status == WorkbenchDraft.Status.PUBLISHED:
        return "This draft is published: it no longer changes. Start a new draft for the next version."
    return ""


def card_view(model_admin, request, object_id):
    """The draft card (CONTRACT B3): name/ID fixed, version upward, tools and scopes while draft, firearm
    decision and KPIs per scope, validation read-only, stage progress."""
    draft = get_draft(model_admin, request, object_id)
    read_only = _read_only_reason(model_admin, request, draft)
    can_change = not read_only
    editable = can_change and draft.status == WorkbenchDraft.Status.DRAFT
    grid_options = {"editable": editable, "firearms": firearm_choices(), "kpis": kpi_choices()}
    stale = None
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        card = CardForm(request.POST, stage=draft.stage, stored_spec=draft.spec_snapshot)
        grid = Grid(draft, request.POST, **grid_options)
        if card.is_valid() and grid.is_valid():
            try:
                saved = _save_card(request, draft, card, grid)
            except Refusal as refusal:
                if refusal.status == 412:
                    stale = refusal
                else:
                    _card_errors(card, grid, refusal)
            else:
                messages.success(request, f"Saved revision {saved.revision} of {saved.pk}.")
                if "_validate" in request.POST:
                    _validate_and_report(request, saved, saved.revision)
                return HttpResponseRedirect(_card_url(saved.pk))
    else:
        card = CardForm(initial=CardForm.initial_for(draft), stage=draft.stage)
        grid = Grid(draft, **grid_options)
        if request.GET.get("schemas") == "json":
            # What the card's script fills a stored tool's schema editor with when it is opened.
            return JsonResponse({"schemas": [row.schema for row in grid.rows]})
    all_schemas = request.GET.get("schemas") == "all"
    return TemplateResponse(
        request,
        "admin/workbench/workbenchdraft/card.html",
        page_context(
            model_admin,
            request,
            f"Draft {draft.pk}: {draft.name or draft.connector_id}",
            draft=draft,
            card=card,
            grid=grid,
            tool_rows=tool_rows_html(grid, all_schemas=all_schemas),
            all_schemas=all_schemas,
            hints=HINTS,
            error_links=_error_links(card, grid),
            stale=stale,
            can_change=can_change,
            read_only_reason=read_only,
            scopes_editable=editable,
            stages=_stage_path(draft),
            stage_moves=[stage for stage in draft.stage_moves if stage != draft.stage],
            findings=draft.validation_findings or [],
            stage_lacks=draft.stage_lacks,
            # Publishing is a change too: a viewer holding the permission still only views this draft.
            can_publish=can_change and model_admin.has_publish_permission(request),
            media=model_admin.media + card.media,
        ),
    )


def _error_links(card, grid):
    """Every mistake of a refused save once, in page order, with the anchor of the field it is on."""
    links = [("draft-card-form", "Draft", message) for message in card.non_field_errors()]
    for name, errors in card.errors.items():
        if name != "__all__":
            links += [(card[name].auto_id, card[name].label, message) for message in errors]
    return links + grid.error_links()


CARD_FIELDS = {
    "spec_snapshot.version": "version",
    "status": "status",
    "stage": "stage",
    "spec_snapshot.portability": "portability",
    "spec_snapshot.skills": "skills",
    **{f"spec_snapshot.packaging.{key}": name for key, name in PACKAGING_FIELDS.items()},
}


def _stage_path(draft):
    """The path with the current stage marked, and each other stage a save may move to (back or next).
    A stage outside the path (the database refuses one, a draft in memory may still carry one) shows as
    the path's start rather than a 500."""
    here = stage_index(draft.stage)
    return [
        {
            "name": stage,
            "done": index < here,
            "current": index == here,
            "move": "back" if index < here else "next" if index == here + 1 else "",
        }
        for index, stage in enumerate(STAGE_PATH)
    ]


def _card_errors(card, grid, refusal):
    """A refused save on the card: each field error on its card field, tool row or scope column where
    the card has one, the rest on top."""
    if not refusal.errors:
        card.add_error(None, refusal.detail)
    rows, columns = grid.live_rows(), grid.live_columns()
    for entry in refusal.errors:
        path, message = entry["field"] or "", entry["message"]
        target = CARD_FIELDS.get(path)
        place = _grid_place(path, rows, columns) if target is None else None
        if place is not None:
            place.errors.append(f"{path}: {message}")
        else:
            card.add_error(target, message if target or not path else f"{path}: {message}")


def _grid_place(path, rows, columns):
    """The tool row or scope column a refusal's field path names (`spec_snapshot.tools[3].name`,
    `spec_snapshot.scopes[1]`, `policy_snapshot.firearms.<scope>`), or None."""
    for prefix, items in (("spec_snapshot.tools[", rows), ("spec_snapshot.scopes[", columns)):
        if path.startswith(prefix):
            position = path[len(prefix):].split("]", 1)[0]
            if position.isdigit() and int(position) < len(items):
                return items[int(position)]
    for prefix in ("policy_snapshot.firearms.", "policy_snapshot.kpis."):
        if path.startswith(prefix):
            name = path[len(prefix):].split(".", 1)[0].split("[", 1)[0]
            return next((column for column in columns if column.name == name), None)
    return None
