from decimal import Decimal

import factory

from policies.models import (
    BudgetPolicy,
    Firearm,
    FirearmBinding,
    FirearmGrant,
    KpiCorridor,
    KpiDefinition,
    KpiToolBinding,
    StrategyLock,
    UsageEvent,
)
from tests.workbench.factories import UserFactory


class FirearmFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Firearm
        django_get_or_create = ("firearm_id",)

    firearm_id = factory.Sequence(lambda n: f"firearm.capability_{n}")
    name = factory.LazyAttribute(lambda f: f.firearm_id.split(".")[1].replace("_", " ").capitalize())
    severity = Firearm.Severity.HIGH


class FirearmGrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FirearmGrant

    firearm = factory.SubFactory(FirearmFactory)
    principal_type = FirearmGrant.PrincipalType.USER
    tenant = factory.SubFactory("tests.workbench.factories.TenantFactory")
    user = factory.SubFactory(UserFactory)
    granted_by = factory.SubFactory(UserFactory)
    reason = "Needed for the release train"


class FirearmBindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FirearmBinding

    action_name = factory.Sequence(lambda n: f"connector-{n}:admin_write")
    firearm = factory.SubFactory(FirearmFactory)


class StrategyLockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StrategyLock

    name = factory.Sequence(lambda n: f"lock-{n}")
    actions = factory.LazyFunction(list)


class KpiDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KpiDefinition
        django_get_or_create = ("kpi_id",)

    kpi_id = factory.Sequence(lambda n: f"kpi.metric_{n}")
    name = factory.LazyAttribute(lambda k: k.kpi_id.split(".")[1].replace("_", " ").capitalize())
    unit = "%"


class KpiCorridorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KpiCorridor

    kpi = factory.SubFactory(KpiDefinitionFactory)
    lower = Decimal("0")
    upper = Decimal("15")
    critical_lower = None
    critical_upper = Decimal("30")


class KpiToolBindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KpiToolBinding

    action_name = factory.Sequence(lambda n: f"connector-{n}:admin_write")
    kpi = factory.SubFactory(KpiDefinitionFactory)
    effect = KpiToolBinding.Effect.INCREASES


class BudgetPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BudgetPolicy

    budget_id = factory.Sequence(lambda n: f"budget-{n}")
    limit = Decimal("100")
    unit = "USD"


class UsageEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UsageEvent

    action_name = "leads.create"
    cost = Decimal("0.01")
