"""Sandbox probes in the admin: the probe list and detail (read-only, the user's tenants), the "Import
from a package" page and its status page, and the "Check against the live server" page of a draft."""

from django.contrib import admin
from django_tasks_db.models import DBTaskResult

# The task backend's own rows are its internals: people follow a probe through the probe's row, which
# says what ran and why it failed in the product's words.
if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)
