"""The one way a service says no: `Refusal`, a stable code, a human detail, optional field errors, and
the HTTP status the API answers it with.

Services raise it and never an HTTP class: the API's exception handler turns it into problem+json
(RFC 9457), the admin into a message on the page (and field errors on the form), a command into its
detail on stderr and a non-zero exit. Each interface only translates; none decides again.

    raise Refusal(409, "already_revoked", "This grant is already revoked.")
    raise Refusal.invalid([field_error("reason", "required", "Say why.")])
"""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

#: The statuses a refusal may carry. 401 is for a service reached without a caller, 413 for a body or an
#: upload over its cap, 502 for a tool whose handler failed (the gateway's upstream), 503 for a dependency
#: that is gone.
STATUSES = frozenset({400, 401, 403, 404, 409, 412, 413, 422, 423, 428, 429, 501, 502, 503, 504})


def field_error(field, code, message):
    """One entry of a refusal's `errors`: the field or row path (None: the whole request), a code, a
    message."""
    return {"field": field or None, "code": code, "message": str(message)}


class Refusal(Exception):
    """A service's refusal: `Refusal(status, code, detail, errors=[...], **extra)`.

    `extra` holds machine-readable details the answer carries beside the code (the current revision,
    the lock that refused a call); they must be JSON-serialisable.
    """

    def __init__(self, status, code, detail, *, errors=None, **extra):
        if status not in STATUSES:
            raise ValueError(f"A refusal's status is one of {sorted(STATUSES)}, not {status}.")
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = str(detail)
        self.errors = list(errors or [])
        self.extra = extra

    def __str__(self):
        return self.detail

    def __repr__(self):
        return f"Refusal({self.status}, {self.code!r}, {self.detail!r})"

    @property
    def message(self):
        """The detail, with each field error appended: what a person reads on a page or a terminal."""
        parts = [self.detail]
        for entry in self.errors:
            text = f"{entry['field']}: {entry['message']}" if entry.get("field") else entry["message"]
            if text not in parts and entry["message"] != self.detail:
                parts.append(text)
        return " ".join(parts) if len(parts) > 1 else self.detail

    @classmethod
    def invalid(cls, errors, detail=None, *, code="validation_error", **extra):
        """400: the input is wrong, field by field."""
        errors = _unique(errors)
        if detail is None:
            fields = sorted({entry["field"] for entry in errors if entry["field"]})
            if fields:
                detail = f"Invalid {', '.join(fields)}."
            else:
                detail = errors[0]["message"] if errors else "Invalid input."
        return cls(400, code, detail, errors=errors, **extra)

    @classmethod
    def fields(cls, messages, *, code="invalid"):
        """400 from {field: message or [messages]}: the shape rules are most naturally written in."""
        errors = []
        for field, texts in messages.items():
            for text in [texts] if isinstance(texts, str) else texts:
                errors.append(field_error(field, code, text))
        return cls.invalid(errors)

    @classmethod
    def from_validation_error(cls, error, *, rename=None, prefix=""):
        """A model's ValidationError (full_clean) as a 400 refusal, one entry per field message and
        its code. `rename` maps model field names to the names the caller used."""
        return cls.invalid(validation_errors(error, rename=rename, prefix=prefix))


def validation_errors(error, *, rename=None, prefix=""):
    """Django's ValidationError as refusal `errors` ({field, code, message}), keeping message codes."""
    rename = rename or {}
    entries = []
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            name = "" if field == NON_FIELD_ERRORS else rename.get(field, field)
            path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            for item in errors:
                entries.extend(_messages(item, path))
    else:
        entries.extend(_messages(error, prefix))
    return _unique(entries)


def _messages(error, path):
    entries = []
    for item in getattr(error, "error_list", [error]):
        message = item.message % item.params if item.params else item.message
        entries.append(field_error(path, item.code or "invalid", message))
    return entries


def _unique(errors):
    """Drop repeats of the same message on the same field (a model's clean() and its database constraint
    often say the same thing)."""
    seen, unique = set(), []
    for entry in errors:
        key = (entry["field"], entry["message"])
        if key not in seen:
            seen.add(key)
            unique.append(entry)
    return unique


def as_validation_error(refusal):
    """A refusal's field errors as a Django ValidationError keyed by field, for forms."""
    by_field = {}
    for entry in refusal.errors:
        by_field.setdefault(entry["field"] or NON_FIELD_ERRORS, []).append(
            ValidationError(entry["message"], code=entry["code"])
        )
    if not by_field:
        by_field[NON_FIELD_ERRORS] = [ValidationError(refusal.detail, code=refusal.code)]
    return ValidationError(by_field)
