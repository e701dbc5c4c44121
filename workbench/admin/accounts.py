"""Accounts in the admin: users, groups and API tokens are the platform's (the access table): only platform
staff add, change or delete them, so no tenant owner holding `auth.change_user` makes themself a
superuser, puts themself in a group, or mints a token for someone else."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from knox.admin import AuthTokenAdmin
from knox.models import AuthToken

from workbench.kit.admin import AccessAdmin

User = get_user_model()

for model in (User, Group, AuthToken):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(User)
class PlatformUserAdmin(AccessAdmin, UserAdmin):
    pass


@admin.register(Group)
class PlatformGroupAdmin(AccessAdmin, GroupAdmin):
    pass


@admin.register(AuthToken)
class PlatformAuthTokenAdmin(AccessAdmin, AuthTokenAdmin):
    pass
