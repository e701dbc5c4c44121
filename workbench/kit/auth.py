"""Authentication pieces that keep a request's own cost constant: one query for a user's permissions,
one for their API token.

Django's ModelBackend reads a user's permissions in two queries (given to the user, given through
groups); `ModelBackend` here reads both in one UNION. knox reads every token of the user on each
request to sweep the expired ones; `TokenAuthentication` here checks only the token presented (an
expired one is still refused and deleted), so a request pays for its own credentials only. Nothing is
kept between requests: the permission set lives on the request's user object, as in Django.
"""

from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.models import Permission
from django.utils import timezone
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.signals import token_expired


class ModelBackend(DjangoModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                rows = Permission.objects.values_list("content_type__app_label", "codename").order_by()
            else:
                given = Permission.objects.filter(user=user_obj)
                through_groups = Permission.objects.filter(group__user=user_obj)
                rows = given.values_list("content_type__app_label", "codename").order_by().union(
                    through_groups.values_list("content_type__app_label", "codename").order_by()
                )
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache


class TokenAuthentication(KnoxTokenAuthentication):
    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False
