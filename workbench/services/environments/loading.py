"""Load an environment: the shared seeds plus one environment's fixtures, in one transaction.

Every object goes through full_clean and the same row save the admin uses, so a fixture can hold
nothing the admin would refuse. Objects are matched by natural key, and only the fields a fixture
names are compared, so a second load finds everything unchanged and writes nothing. Any error
(unknown reference, bad identifier, duplicate) rolls the whole load back and is reported with the
file, the object and the field.
"""

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist, ValidationError
from django.core.serializers.base import DeserializationError
from django.db import DEFAULT_DB_ALIAS, transaction

from workbench.kit.access import SYSTEM
from workbench.kit.refusals import Refusal, field_error
from workbench.kit.rows import row_save
from workbench.services.audit import record_platform_write

SEEDS_DIR = Path(settings.BASE_DIR) / "seeds"
FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"


class EnvironmentLoadError(Refusal):
    """400 `environment_invalid`: the environment could not be loaded, nothing was written. `problems`
    lists every finding (file, object, field) as a line; `errors` has one entry per finding."""

    def __init__(self, problems):
        self.problems = problems
        shown = "\n  ".join(problems)
        super().__init__(
            400,
            "environment_invalid",
            f"Nothing was loaded ({len(problems)} problem(s)):\n  {shown}",
            errors=[field_error(None, "invalid", problem) for problem in problems],
        )


@dataclass
class Change:
    model: str
    key: tuple
    action: str  # created | updated
    fields: list = field(default_factory=list)

    def __str__(self):
        what = f" ({', '.join(self.fields)})" if self.fields else ""
        return f"{self.action:8} {self.model} {'/'.join(str(k) for k in self.key)}{what}"


@dataclass
class LoadReport:
    files: list = field(default_factory=list)
    changes: list = field(default_factory=list)
    counts: dict = field(default_factory=lambda: defaultdict(Counter))
    demo_users: list = field(default_factory=list)

    @property
    def changed(self):
        return bool(self.changes)

    def count(self, model, action):
        self.counts[model][action] += 1

    def add_change(self, model, key, action, fields=()):
        self.changes.append(Change(model, tuple(key), action, list(fields)))

    def summary_lines(self):
        lines = []
        for model in sorted(self.counts):
            c = self.counts[model]
            line = f"{model}: {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged"
            lines.append(line + (f", {c['deleted']} deleted" if c["deleted"] else ""))
        return lines


TOOL_REGISTRY = "tools.registry.json"


def environment_files(name):
    """The steps an environment is made of, in load order, as (kind, path) pairs.

    Seeds first: numbered fixtures below 50 (permissions, firearms, KPIs), then the tool registry,
    then the example connectors (published through drafts), then seed fixtures numbered 50 and up
    (they may refer to those connectors, e.g. engine routes); last the environment's own fixtures.
    `name` is an environment under fixtures/ (dev, staging, prod) or the path of one fixture file
    (e.g. one written by dump_environment)."""
    path = Path(name)
    if path.suffix == ".json" and path.exists():
        return [("fixture", path)]
    known = sorted(p.name for p in FIXTURES_DIR.iterdir() if p.is_dir()) if FIXTURES_DIR.is_dir() else []
    if name not in known:
        hint = " (a fixture file must end in .json and exist)" if path.suffix or "/" in name else ""
        raise EnvironmentLoadError(
            [f"Unknown environment {name!r}; known: {', '.join(known) or 'none'}{hint}."]
        )
    env_dir = FIXTURES_DIR / name
    seed_fixtures = sorted(p for p in SEEDS_DIR.glob("*.json") if p.name != TOOL_REGISTRY)
    steps = [("fixture", p) for p in seed_fixtures if p.name < "50"]
    if (SEEDS_DIR / TOOL_REGISTRY).exists():
        steps.append(("tools", SEEDS_DIR / TOOL_REGISTRY))
    steps += [("connector", p) for p in sorted(SEEDS_DIR.glob("connectors/*.json"))]
    steps += [("fixture", p) for p in seed_fixtures if p.name >= "50"]
    return steps + [("fixture", p) for p in sorted(env_dir.glob("*.json"))]


def _natural_key(obj):
    try:
        return tuple(obj.natural_key())
    except (AttributeError, ObjectDoesNotExist):
        return (obj.pk,)


def _describe_deserialization_error(exc):
    cause = exc.__cause__ or exc.__context__
    text = str(exc)
    if isinstance(cause, ObjectDoesNotExist):
        return f"refers to something that does not exist: {text.split(': (', 1)[-1].rstrip(')')}"
    return text


def _load_entry(entry, *, label, report, seen, reason):
    model_label = entry.get("model", "")
    try:
        model = apps.get_model(model_label)
    except (LookupError, ValueError):
        raise ValidationError(f"unknown model {model_label!r}") from None
    named = set(entry.get("fields", {}))
    for name in named:
        try:
            model._meta.get_field(name)
        except FieldDoesNotExist:
            raise ValidationError({name: f"{model_label} has no field {name!r}"}) from None

    (deserialized,) = serializers.deserialize(
        "python", [entry], using=DEFAULT_DB_ALIAS, ignorenonexistent=False, handle_forward_references=False
    )
    incoming = deserialized.object
    key = _natural_key(incoming)
    if (model_label, key) in seen:
        raise ValidationError(f"duplicate of an object already loaded from {seen[(model_label, key)]}")
    seen[(model_label, key)] = label

    existing = model._base_manager.filter(pk=incoming.pk).first() if incoming.pk is not None else None
    m2m = {name: set(values) for name, values in (deserialized.m2m_data or {}).items()}
    if existing is None:
        target, action, changed = incoming, "created", sorted(named)
    else:
        changed = []
        for name in sorted(named - set(m2m)):
            f = model._meta.get_field(name)
            if getattr(existing, f.attname) != getattr(incoming, f.attname):
                setattr(existing, f.attname, getattr(incoming, f.attname))
                changed.append(name)
        for name, pks in m2m.items():
            if set(getattr(existing, name).values_list("pk", flat=True)) != pks:
                changed.append(name)
        target, action = existing, ("updated" if changed else "unchanged")

    report.count(model_label, action)
    if action == "unchanged":
        return
    row_save(instance=target, user=SYSTEM, reason=reason)
    for name, pks in m2m.items():
        getattr(target, name).set(pks)
    report.changes.append(
        Change(model_label, _natural_key(target), action, [] if action == "created" else changed)
    )


def _read(path):
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EnvironmentLoadError([f"{path}: cannot read JSON: {exc}"]) from None
    if not isinstance(data, list):
        raise EnvironmentLoadError([f"{path}: a fixture is a JSON list of objects"])
    return data


def _describe_key(entry):
    """The object's natural key as a person reads it, from the fixture entry itself."""
    try:
        model = apps.get_model(entry.get("model", ""))
    except (LookupError, ValueError):
        return ""
    fields = entry.get("fields", {})
    parts = []
    for path in getattr(model, "NATURAL_KEY", ()):
        value = fields.get(path.split("__")[0])
        if value is not None:
            parts.extend(str(v) for v in value) if isinstance(value, list) else parts.append(str(value))
    return "/".join(parts)


def _format(path, index, entry, exc):
    model = entry.get("model", "?") if isinstance(entry, dict) else "?"
    ident = _describe_key(entry) if isinstance(entry, dict) else ""
    where = f"{path}"
    if index is not None:
        where += f": object {index} ({model}{' ' + ident if ident else ''})"
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return [f"{where}: field {name}: {msg}" for name, msgs in exc.message_dict.items() for msg in msgs]
    if isinstance(exc, ValidationError):
        return [f"{where}: {msg}" for msg in exc.messages]
    if isinstance(exc, Refusal):
        if not exc.errors:
            return [f"{where}: {exc.detail}"]
        return [
            f"{where}: field {e['field']}: {e['message']}" if e["field"] else f"{where}: {e['message']}"
            for e in exc.errors
        ]
    if isinstance(exc, DeserializationError):
        return [f"{where}: {_describe_deserialization_error(exc)}"]
    return [f"{where}: {exc}"]


def _shown(path):
    path = Path(path)
    base = Path(settings.BASE_DIR)
    return path.relative_to(base) if path.is_absolute() and path.is_relative_to(base) else path


LOAD_ERRORS = (
    Refusal,
    ValidationError,
    DeserializationError,
    ObjectDoesNotExist,
    ValueError,
    TypeError,
    KeyError,
)


def _load_step(kind, path, *, report, seen, reason, problems):
    from .seeding import load_tool_registry, publish_seed_connector

    if kind != "fixture":
        step = load_tool_registry if kind == "tools" else publish_seed_connector
        try:
            with transaction.atomic():
                step(path, report=report, reason=reason)
        except LOAD_ERRORS as exc:
            problems.extend(_format(_shown(path), None, {}, exc))
        return
    for index, entry in enumerate(_read(path)):
        try:
            with transaction.atomic():
                _load_entry(
                    entry, label=f"{path.name} object {index}", report=report, seen=seen, reason=reason
                )
        except LOAD_ERRORS as exc:
            problems.extend(_format(_shown(path), index, entry, exc))


def known_password_logins(steps):
    """Usernames the environment's fixtures give a usable password: logins anyone reading the repository
    knows (the dev demo users)."""
    found = []
    for kind, path in steps:
        if kind != "fixture":
            continue
        for entry in _read(path):
            fields = entry.get("fields", {}) if isinstance(entry, dict) else {}
            password = fields.get("password")
            if (
                entry.get("model") == "auth.user"
                and isinstance(password, str)
                and not password.startswith("!")
            ):
                found.append(str(fields.get("username")))
    return found


def environment_load(*, name, plan=False, reason=None, allow_demo_users=False):
    """Load environment `name` (or one fixture file); with plan=True, report the changes, write nothing.

    Returns a LoadReport; raises EnvironmentLoadError (nothing written) if any object is invalid. Outside
    debug, an environment that installs logins with known passwords is refused (403 `demo_users`)
    unless `allow_demo_users`; the report lists them either way (`report.demo_users`)."""
    steps = environment_files(name)
    demo_users = known_password_logins(steps)
    if demo_users and not settings.DEBUG and not allow_demo_users:
        raise Refusal(
            403,
            "demo_users",
            f"{name} installs logins with known passwords ({', '.join(demo_users)}) and DJANGO_DEBUG is off: "
            "nothing was loaded. Load it on a development machine, or pass --allow-demo-users if you really "
            "mean to install them here.",
            users=demo_users,
        )
    report = LoadReport(files=[str(path) for _, path in steps], demo_users=demo_users)
    reason = reason or f"load_environment {name}"
    problems, seen = [], {}
    with transaction.atomic():
        for kind, path in steps:
            _load_step(kind, path, report=report, seen=seen, reason=reason, problems=problems)
        if problems:
            transaction.set_rollback(True)
            raise EnvironmentLoadError(problems)
        if plan:
            transaction.set_rollback(True)
        elif report.changed:
            # Its rows are written by the system actor: the load is one platform-scope write.
            record_platform_write(
                actor=None, action="load", subject=f"environment {name}", reason=reason,
                detail={"changes": len(report.changes)},
            )
    return report
