"""Small pieces every model here shares: natural keys and write-once rows."""

from functools import cache

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models

#: Caps of free text (README "Limits"): long enough for any honest description, short enough that a row
#: never carries a megabyte into every list that shows it.
DESCRIPTION_LIMIT = 5000
REASON_LIMIT = 2000
CONTENT_LIMIT = 20000


def free_text(limit=DESCRIPTION_LIMIT, **kwargs):
    """A TextField whose length the model enforces (full_clean), so the admin, the API, imports and
    fixtures refuse the same text; the admin's textarea carries the same maxlength."""
    return models.TextField(max_length=limit, validators=[MaxLengthValidator(limit)], **kwargs)


def _follow(obj, path):
    for part in path.split("__"):
        obj = getattr(obj, part)
    return obj


class NaturalKeyManager(models.Manager):
    """get_by_natural_key over the model's NATURAL_KEY field paths, so fixtures need no primary keys."""

    def get_by_natural_key(self, *key):
        return self.get(**dict(zip(self.model.NATURAL_KEY, key, strict=True)))


class NaturalKeyModel(models.Model):
    NATURAL_KEY: tuple[str, ...] = ()

    objects = NaturalKeyManager()

    class Meta:
        abstract = True

    def natural_key(self):
        return tuple(_follow(self, path) for path in self.NATURAL_KEY)


class WriteOnceError(ValidationError):
    """Raised when something tries to change or delete a published, immutable row."""


class WriteOnceQuerySet(models.QuerySet):
    """Bulk delete and bulk update of frozen fields are refused, like single saves."""

    def delete(self):
        raise WriteOnceError(
            f"{self.model._meta.verbose_name_plural.capitalize()} are permanent and cannot be deleted.",
            code="immutable",
        )

    delete.queryset_only = True

    def update(self, **kwargs):
        frozen = set(kwargs) - set(self.model.MUTABLE_FIELDS)
        if frozen:
            raise WriteOnceError(
                f"{', '.join(sorted(frozen))} of a {self.model._meta.verbose_name} cannot change once saved.",
                code="immutable",
            )
        return super().update(**kwargs)


class WriteOnceManager(NaturalKeyManager.from_queryset(WriteOnceQuerySet)):
    pass


class WriteOnceModel(NaturalKeyModel):
    """A row that never changes after it is created, apart from MUTABLE_FIELDS."""

    MUTABLE_FIELDS: tuple[str, ...] = ()
    CHANGE_HINT = "publish a new version instead"
    DELETE_HINT = "deprecate it instead"

    objects = WriteOnceManager()

    # Set only for the duration of save_correction / delete_correction: the one way past write-once.
    _correction_reason = ""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._correction_reason:
            self._refuse_frozen_changes()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._correction_reason:
            return super().delete(*args, **kwargs)
        raise WriteOnceError(
            f"A {self._meta.verbose_name} cannot be deleted; {self.DELETE_HINT}.", code="immutable"
        )

    def save_correction(self, *, reason, update_fields, clean_exclude=()):
        """Change frozen fields of a stored row on purpose: a recorded correction (the environment
        loader's seed corrections), never an edit. The row is validated (full_clean, but for
        `clean_exclude`; the database enforces unique keys and constraints) and saved. The caller is a
        service that runs it in its transaction and records `reason` where people read history;
        ordinary saves stay refused."""

        def write():
            self.full_clean(exclude=list(clean_exclude), validate_unique=False, validate_constraints=False)
            self.save(update_fields=update_fields)

        self._run_correction(reason, write)

    def delete_correction(self, *, reason):
        """Delete a stored row on purpose, as a recorded correction (see save_correction)."""
        self._run_correction(reason, self.delete)

    def _run_correction(self, reason, write):
        if self._state.adding or self.pk is None:
            raise ValueError("Only a stored row is corrected; a new row is an ordinary save.")
        if not str(reason or "").strip():
            raise ValueError("A correction names its reason.")
        self._correction_reason = str(reason)
        try:
            write()
        finally:
            del self._correction_reason

    def clean(self):
        super().clean()
        if not self._correction_reason:
            self._refuse_frozen_changes()

    def frozen_changes(self):
        """Names of frozen fields whose value differs from the stored row."""
        if self._state.adding or self.pk is None:
            return []
        stored = type(self)._base_manager.filter(pk=self.pk).values().first()
        if stored is None:
            return []
        changed = []
        for field in self._meta.concrete_fields:
            if field.primary_key or field.name in self.MUTABLE_FIELDS:
                continue
            if stored[field.attname] != getattr(self, field.attname):
                changed.append(field.name)
        return changed

    def _refuse_frozen_changes(self):
        changed = self.frozen_changes()
        if changed:
            raise WriteOnceError(
                {
                    name: f"A {self._meta.verbose_name} never changes once saved; {self.CHANGE_HINT}."
                    for name in changed
                },
                code="immutable",
            )


def stored_references(instance):
    """Names of `instance`'s foreign keys (one-to-one included) that hold a row read from the database:
    `full_clean` may exclude them, sparing the query per reference that only asks whether that row
    exists (the database enforces the reference on insert). Imports clean thousands of rows this way."""
    return [
        field.name
        for field in _references(type(instance))
        if field.is_cached(instance) and _is_stored(field.get_cached_value(instance))
    ]


@cache
def _references(model):
    return tuple(field for field in model._meta.concrete_fields if field.is_relation)


def _is_stored(row):
    return row is not None and row.pk is not None and not row._state.adding
