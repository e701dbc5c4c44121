"""Admin for tenants and their members: the boundary drafts are scoped by."""

from django.contrib import admin
from django.db.models import Count, Q

from workbench.kit import access
from workbench.kit.admin import AccessInline, IdentityInline, RowAdmin
from workbench.models import Membership, Tenant


class MembershipInline(AccessInline, IdentityInline, admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["user"]
    identity_fields = ("user",)


@admin.register(Tenant)
class TenantAdmin(RowAdmin):
    list_display = ["slug", "name", "members", "created_at"]
    search_fields = ["slug", "name"]
    fields = ["slug", "name"]
    identity_fields = ("slug",)
    inlines = [MembershipInline]

    def get_queryset(self, request):
        # Members are their tenant's rows: counted where the user may read them (every tenant: auditors).
        readable = access.readable(request.user, Membership.objects.all()).values("pk")
        counted = Count("memberships", filter=Q(memberships__in=readable))
        return super().get_queryset(request).annotate(member_count=counted)

    @admin.display(description="members", ordering="member_count")
    def members(self, obj):
        return obj.member_count


@admin.register(Membership)
class MembershipAdmin(RowAdmin):
    list_display = ["tenant", "user", "role", "created_at"]
    list_filter = ["role", ("tenant", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["tenant", "user"]
    search_fields = ["tenant__slug", "tenant__name", "user__username", "user__email"]
    autocomplete_fields = ["tenant", "user"]
    fields = ["tenant", "user", "role"]
    identity_fields = ("tenant", "user")
