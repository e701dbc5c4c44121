"""The permission vocabulary starts with the six permissions of seed 002; staff add more in the admin."""

from django.db import migrations
from django.utils import timezone

SEED_PERMISSIONS = [
    ("read:db", "Read from database", False),
    ("write:db", "Write to database", False),
    ("send:sms", "Send SMS (requires provider)", True),
    ("send:email", "Send email (requires provider)", True),
    ("calendar:read", "Read calendar (requires Google API)", True),
    ("calendar:write", "Write calendar (requires Google API)", True),
]


def seed(apps, schema_editor):
    ToolPermission = apps.get_model("registries", "ToolPermission")
    for name, description, requires_provider in SEED_PERMISSIONS:
        ToolPermission.objects.get_or_create(
            name=name,
            defaults={
                "description": description,
                "requires_provider": requires_provider,
                "created_at": timezone.now(),
            },
        )


def unseed(apps, schema_editor):
    ToolPermission = apps.get_model("registries", "ToolPermission")
    ToolPermission.objects.filter(name__in=[name for name, _, _ in SEED_PERMISSIONS]).delete()


class Migration(migrations.Migration):
    dependencies = [("registries", "0002_tool_registry")]

    operations = [migrations.RunPython(seed, unseed)]
