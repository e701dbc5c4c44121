"""Read-only admin for the tools' domain tables: the rows the seed tools' handlers write."""

from django.contrib import admin

from registries.models import Boundary, Lead, MediaAsset, Memory, PatternScore, Task
from workbench.kit.admin import ReadOnlyAdmin


class DomainRowAdmin(ReadOnlyAdmin):
    """Rows the seed tools' handlers write: browse them to see a call's effects."""

    search_fields = ["call_id"]

    def get_list_display(self, request):
        return [*self.shown, "call_id", "created_at"]


@admin.register(Lead)
class LeadAdmin(DomainRowAdmin):
    shown = ["phone", "name", "email", "source"]
    search_fields = ["phone", "name", "email", "call_id"]


@admin.register(MediaAsset)
class MediaAssetAdmin(DomainRowAdmin):
    shown = ["file_ref", "media_type", "title", "size_bytes"]
    search_fields = ["file_ref", "title", "call_id"]


@admin.register(Memory)
class MemoryAdmin(DomainRowAdmin):
    shown = ["key", "content"]
    search_fields = ["key", "content", "call_id"]


@admin.register(PatternScore)
class PatternScoreAdmin(DomainRowAdmin):
    shown = ["key", "pattern", "score"]
    search_fields = ["key", "pattern", "call_id"]


@admin.register(Boundary)
class BoundaryAdmin(DomainRowAdmin):
    shown = ["key", "value"]
    search_fields = ["key", "value", "call_id"]


@admin.register(Task)
class TaskAdmin(DomainRowAdmin):
    shown = ["title", "status", "due_at"]
    list_filter = ["status"]
    search_fields = ["title", "call_id"]
