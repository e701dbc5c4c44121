from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import DjangoModelPermissions

from workbench.kit import access


class ModelPermissions(DjangoModelPermissions):
    """Django model permissions, with the view permission required for reads too.

    A method the endpoint does not offer answers 405 to every signed-in user (not 403 to those who
    lack the add/change permission), so read-only registries say plainly that they are read-only.
    Extra actions name their permissions in the viewset's `action_permissions`
    ({"revoke": ["%(app_label)s.change_%(model_name)s"]}); without an entry they follow the HTTP method.

    A write (create, update, delete, and the extra actions a viewset lists in `write_actions`) by someone
    holding the model permission is then put to the access table before the body is read: a tenant owner
    writing a platform row gets 403 `platform_scope`, not a 400 about the body. The row itself is checked
    again by the service that writes it.
    """

    WRITES = frozenset({"create", "update", "partial_update", "destroy"})

    def _queryset(self, view):
        # Only the model is needed here: a viewset's plain `queryset` says it without asking the access
        # table (get_queryset() filters by who is asking, which costs queries).
        queryset = getattr(view, "queryset", None)
        return queryset if queryset is not None else super()._queryset(view)

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method not in view.allowed_methods:
            raise MethodNotAllowed(request.method)
        action = getattr(view, "action", None)
        required = getattr(view, "action_permissions", {}).get(action)
        if required is None:
            allowed = super().has_permission(request, view)
        else:
            model = self._queryset(view).model
            names = {"app_label": model._meta.app_label, "model_name": model._meta.model_name}
            allowed = request.user.has_perms([perm % names for perm in required])
        if allowed and (action in self.WRITES or action in getattr(view, "write_actions", ())):
            access.check_may_write(request.user, self._queryset(view).model)
        return allowed
