"""Who may read and write which rows: the kit asks, the project's access table answers.

The kit's write path (`rows.row_save`, `rows.row_delete`), its admin and its API bases all ask the access
gate named by the `WORKBENCH_ACCESS_GATE` setting (a dotted path, like AUTHENTICATION_BACKENDS), so
the floor enforces tenancy without importing the app that defines it. The gate is code, not state:
every answer comes from the database at the moment it is asked.

A gate offers:
- `readable(user, queryset)`: the rows of `queryset` the user may read (lists and detail lookups);
- `writable(user, queryset)`: the rows the user may write;
- `addressable(user, queryset)`: the rows a detail page or a write may address (readable or writable);
- `check_write(actor, instance, action)`: raise a `Refusal` (403 with a code saying why) unless `actor`
  may `action` ("add", "change", "delete") the row;
- `may_write(actor, model)`: whether the actor could write some row of the model at all (admin buttons);
- `check_may_write(actor, model)`: the same as a `Refusal` saying why not (API writes, before the body);
- `reads_deleted(user, model)`: whether the user may read the history of a deleted row of the model.

`SYSTEM` is the actor of writes no person makes (environment loads, publish internals): the gate lets it
write anything, and only trusted code passes it.
"""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


class _System:
    """The actor of environment loads and other code-reviewed writes."""

    pk = None
    is_authenticated = True
    is_superuser = False

    def __repr__(self):
        return "SYSTEM"

    def get_username(self):
        return "system"


SYSTEM = _System()


@cache
def gate():
    return import_string(settings.WORKBENCH_ACCESS_GATE)


def readable(user, queryset):
    return gate().readable(user, queryset)


def writable(user, queryset):
    return gate().writable(user, queryset)


def addressable(user, queryset):
    return gate().addressable(user, queryset)


def check_write(actor, instance, action="change"):
    gate().check_write(actor, instance, action)


def may_write(actor, model):
    return gate().may_write(actor, model)


def check_may_write(actor, model):
    gate().check_may_write(actor, model)


def reads_deleted(user, model):
    return gate().reads_deleted(user, model)
