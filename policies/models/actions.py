"""An action is a connector scope `<connector_id>:<scope>` or a registry tool `domain.method`; a live binding
(firearm or KPI) names one that exists."""

from django.apps import apps
from django.core.exceptions import ValidationError


class BoundAction:
    """Mixin of the live bindings: clean() refuses an action whose connector scope or tool does not exist.
    Publish sets `action_known` on the bindings it writes (it has just written their scopes)."""

    action_known = False

    def clean(self):
        super().clean()
        if self.action_known or not self.action_name:
            return
        if ":" in self.action_name:
            connector_id, scope = self.action_name.split(":", 1)
            Scope = apps.get_model("registries", "Scope")
            if not Scope.objects.filter(connector__connector_id=connector_id, name=scope).exists():
                raise ValidationError(
                    {"action_name": f"No published connector {connector_id!r} has a scope {scope!r}."}
                )
            return
        tools = apps.get_model("registries", "ToolDefinition").objects
        if not tools.filter(name=self.action_name).exists():
            raise ValidationError({"action_name": f"No tool {self.action_name!r} in the tool registry."})
