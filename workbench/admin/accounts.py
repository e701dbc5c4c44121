"""Accounts in the admin: users, groups and API tokens are the platform's (the access table): only platform
staff add, change or delete them, so no tenant owner holding `auth.change_user` makes themself a
superuser, puts themself in a group, or mints a token for someone else. Platform staff holding
`axes.delete_accessattempt` unlock users locked out by failed sign-ins ("Unlock selected accounts")."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from knox.admin import AuthTokenAdmin
from knox.models import AuthToken

from workbench.kit.admin import AccessAdmin
from workbench.kit.refusals import Refusal
from workbench.services.accounts import account_unlock
from workbench.tenancy import access

User = get_user_model()

for model in (User, Group, AuthToken):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(User)
class PlatformUserAdmin(AccessAdmin, UserAdmin):
    actions = ["unlock_selected"]

    def has_unlock_permission(self, request):
        return request.user.has_perm("axes.delete_accessattempt") and access.is_platform_staff(request.user)

    @admin.action(description="Unlock selected accounts", permissions=["unlock"])
    def unlock_selected(self, request, queryset):
        for user in queryset:
            username = user.get_username()
            try:
                cleared = account_unlock(user=request.user, username=username, request=request)
            except Refusal as refusal:
                self.message_user(request, f"{username}: {refusal.message}", messages.ERROR)
                continue
            if cleared:
                self.message_user(
                    request, f"{username}: unlocked ({cleared} failed sign-ins cleared).", messages.SUCCESS
                )
            else:
                self.message_user(request, f"{username}: no failed sign-ins counted; nothing to unlock.")


@admin.register(Group)
class PlatformGroupAdmin(AccessAdmin, GroupAdmin):
    pass


@admin.register(AuthToken)
class PlatformAuthTokenAdmin(AccessAdmin, AuthTokenAdmin):
    pass
