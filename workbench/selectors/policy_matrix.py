"""Reads behind the policy matrix: the scopes of each connector's latest published version with the
firearm bound to them, and which scopes a strategy lock policy covers."""

from django.db import connections
from django.db.models import F, OuterRef, Subquery, Value
from django.db.models.functions import Collate, Concat

from policies.models import FirearmBinding, StrategyLock
from registries.models import Scope


def in_byte_order(queryset, *fields):
    """`queryset` ordered by `fields` compared as bytes, so a file lists rows in the same order on
    SQLite (binary by default) and PostgreSQL (whose default collation would sort "a-b" after "ab")."""
    if connections[queryset.db].vendor == "postgresql":
        return queryset.order_by(*(Collate(F(name), "C") for name in fields))
    return queryset.order_by(*fields)


def scope_bindings(connector_ref, scope_ref="name"):
    """FirearmBindings of the action `<connector_id>:<scope>`, as a subquery (action_name is unique)."""
    return FirearmBinding.objects.filter(action_name=Concat(connector_ref, Value(":"), OuterRef(scope_ref)))


def latest_scopes_with_firearms():
    """Scopes of each connector's latest published version, with `bound_firearm_id` (None: no binding),
    ordered by connector_id and scope name."""
    firearm = scope_bindings(OuterRef("connector__connector_id")).values("firearm__firearm_id")[:1]
    scopes = Scope.objects.latest_published().annotate(bound_firearm_id=Subquery(firearm))
    return in_byte_order(scopes, "connector__connector_id", "name")


class LockCover:
    """Which actions strategy lock policies cover, engaged or not: an action itself, its connector or
    its firearm. Locks are few; their coverage is read once, then every row is a set lookup."""

    def __init__(self, locks=None):
        locks = StrategyLock.objects.prefetch_related("connectors", "firearms") if locks is None else locks
        self.actions, self.connectors, self.firearms = set(), set(), set()
        for lock in locks:
            self.actions.update(item for item in lock.actions or [] if isinstance(item, str))
            self.connectors.update(connector.connector_id for connector in lock.connectors.all())
            self.firearms.update(firearm.firearm_id for firearm in lock.firearms.all())

    def covers(self, connector_id, scope, firearm_id):
        return (
            f"{connector_id}:{scope}" in self.actions
            or connector_id in self.connectors
            or (firearm_id is not None and firearm_id in self.firearms)
        )
