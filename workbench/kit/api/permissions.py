from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import DjangoModelPermissions


class ModelPermissions(DjangoModelPermissions):
    """Django model permissions, with the view permission required for reads too.

    A method the endpoint does not offer answers 405 to every signed-in user (not 403 to those who
    lack the add/change permission), so read-only registries say plainly that they are read-only.
    Extra actions name their permissions in the viewset's `action_permissions`
    ({"revoke": ["%(app_label)s.change_%(model_name)s"]}); without an entry they follow the HTTP method.
    """

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
        required = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if required is None:
            return super().has_permission(request, view)
        model = self._queryset(view).model
        names = {"app_label": model._meta.app_label, "model_name": model._meta.model_name}
        return request.user.has_perms([perm % names for perm in required])
