"""Project settings, read from the environment.

DATABASE_URL        database (default: SQLite file db.sqlite3 next to manage.py)
DJANGO_DEBUG        "1"/"true" for development; off by default
DJANGO_SECRET_KEY   required unless DJANGO_DEBUG is on
DJANGO_ALLOWED_HOSTS comma-separated host names (default: localhost,127.0.0.1 in debug)
WORKBENCH_RECEIPT_RETENTION_DAYS days tool receipts are kept before purge_receipts removes them (90)
WORKBENCH_AUDIT_RETENTION_DAYS days security events are kept before purge_security_events removes them (365)
WORKBENCH_LOGIN_FAILURE_LIMIT failed sign-ins per username, and per IP address, before a lockout (5)
WORKBENCH_LOGIN_COOLOFF_MINUTES how long a lockout lasts after the last failed attempt (15)
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=()):
    value = os.environ.get(name, "")
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or list(default)


DEBUG = env_bool("DJANGO_DEBUG")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off.")
    SECRET_KEY = "django-insecure-local-development-only"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "simple_history",
    "import_export",
    # Background work (sandbox probes): Django's tasks API and its database backend.
    "django_tasks",
    "django_tasks_db",
    # Login throttling: failed sign-ins counted in the database, lockout with a cool-off.
    "axes",
    "workbench",
    "registries",
    "policies",
]

MIDDLEWARE = [
    # /healthz and /readyz before host checks and the HTTPS redirect; a lost database is a 503.
    "workbench.kit.middleware.HealthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every answer (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records the acting user on every history row, for admin and API saves alike.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the lockout page (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "workbench.urls"
WSGI_APPLICATION = "workbench.wsgi.application"
ASGI_APPLICATION = "workbench.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "workbench" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Two writers wait for each other instead of failing with "database is locked":
    # BEGIN IMMEDIATE takes the write lock up front, the timeout bounds the wait.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGIN_URL = "admin:login"
# Django's ModelBackend, reading a user's permissions in one query instead of two (workbench/kit/auth.py).
# django-axes' backend first: it refuses a locked-out username or IP before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "workbench.kit.auth.ModelBackend"]


def env_positive_int(name, default):
    value = os.environ.get(name, "").strip() or str(default)
    if not value.isdigit() or int(value) < 1:
        raise ImproperlyConfigured(f"{name} is a whole number of at least 1, not {value!r}.")
    return int(value)


# Reverse proxies in front of the server whose X-Forwarded-For is trusted (0: none, the peer is the client).
WORKBENCH_NUM_PROXIES = os.environ.get("WORKBENCH_NUM_PROXIES", "").strip() or "0"
if not WORKBENCH_NUM_PROXIES.isdigit() or int(WORKBENCH_NUM_PROXIES) > 10:
    raise ImproperlyConfigured(
        f"WORKBENCH_NUM_PROXIES is a whole number 0 to 10, not {WORKBENCH_NUM_PROXIES!r}."
    )
WORKBENCH_NUM_PROXIES = int(WORKBENCH_NUM_PROXIES)


# Login throttling (README "Production"): N failures for one username, from anywhere, lock that username;
# N failures from one IP address, for any usernames, lock that address (each list item is its own
# lockout). Counters are rows of the database (every worker and machine sees the same count); a success
# resets its username's count; every attempt during a lockout restarts the cool-off.
AXES_FAILURE_LIMIT = env_positive_int("WORKBENCH_LOGIN_FAILURE_LIMIT", 5)
WORKBENCH_LOGIN_COOLOFF_MINUTES = env_positive_int("WORKBENCH_LOGIN_COOLOFF_MINUTES", 15)
AXES_COOLOFF_TIME = timedelta(minutes=WORKBENCH_LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "workbench.kit.lockout.LockoutHandler"
AXES_USERNAME_CALLABLE = "workbench.kit.lockout.client_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "workbench.kit.lockout.lockout_response"
AXES_COOLOFF_MESSAGE = (
    f"Too many failed attempts; try again in {WORKBENCH_LOGIN_COOLOFF_MINUTES} minutes "
    "or ask an administrator to unlock it."
)
# Who the client is by address: the peer the server sees (REMOTE_ADDR), or behind WORKBENCH_NUM_PROXIES
# trusted reverse proxies the address the outermost saw in X-Forwarded-For; one rule for the login
# throttle, the API's rate limits (DRF's NUM_PROXIES) and the audit trail (workbench/kit/addresses.py).
AXES_CLIENT_IP_CALLABLE = "workbench.kit.addresses.client_address"
# Unlocking is the users list's action "Unlock selected accounts" (workbench/admin/accounts.py); axes' own
# admin pages stay off (every admin page follows the access table).
AXES_ENABLE_ADMIN = False

# Security headers on every answer, in development too (README "Production"): a Content-Security-Policy
# that allows only this site's own files (no inline script or style, no frames, nothing from elsewhere;
# the admin's and the API docs' JavaScript and CSS are static files), the Referrer-Policy, nosniff and
# frame denial. The Redoc page alone also allows inline style (workbench/api/docs.py says why).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "workbench.kit.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "workbench.kit.api.permissions.ModelPermissions",
    ],
    "DEFAULT_PAGINATION_CLASS": "workbench.kit.api.pagination.BoundedPageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "workbench.kit.api.schema.ProblemAutoSchema",
    "EXCEPTION_HANDLER": "workbench.kit.api.errors.problem_exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["workbench.kit.api.parsers.SafeJSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Rate limits per token and per tenant (WORKBENCH_RATES below); runs after authentication and
    # permissions, before the view.
    "DEFAULT_THROTTLE_CLASSES": ["workbench.api.throttling.WorkbenchRateThrottle"],
    # Proxies in front of the server whose X-Forwarded-For is trusted for an anonymous caller's address
    # (0: the peer's address; anonymous callers are readers of a public MCP registry only).
    "NUM_PROXIES": WORKBENCH_NUM_PROXIES,
}

RATE = re.compile(r"[1-9][0-9]{0,8}/(s|sec|second|m|min|minute|h|hour|d|day)")


def env_rate(name, default):
    """A rate in DRF's syntax, "N/period" (s, min, hour, day), from the environment; "off" for none."""
    value = os.environ.get(name, "").strip() or default
    if value.lower() in {"off", "none", "0"}:
        return None
    if not RATE.fullmatch(value):
        raise ImproperlyConfigured(f'{name} is a rate such as "600/min" (or "off"), not {value!r}.')
    return value


# API rate limits (README "Production"): requests per token (an admin session: per user) and per tenant,
# in fixed windows, separately for reads (GET, HEAD, OPTIONS), writes and tool invokes. Over a limit the
# API answers 429 throttled with Retry-After. The counters are rows of the database (RateCounter) unless
# REDIS_URL names a Redis, which then keeps them (the `throttle` cache); every worker shares them.
WORKBENCH_RATES = {
    "read": env_rate("WORKBENCH_RATE_READ", "1200/min"),
    "write": env_rate("WORKBENCH_RATE_WRITE", "300/min"),
    "invoke": env_rate("WORKBENCH_RATE_INVOKE", "120/min"),
}
WORKBENCH_TENANT_RATES = {
    "read": env_rate("WORKBENCH_TENANT_RATE_READ", "6000/min"),
    "write": env_rate("WORKBENCH_TENANT_RATE_WRITE", "1500/min"),
    "invoke": env_rate("WORKBENCH_TENANT_RATE_INVOKE", "600/min"),
}
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if REDIS_URL:
    # A Redis that cannot be reached answers 503 rate_limits_unavailable within about a second (no hang).
    CACHES["throttle"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }

REST_KNOX = {
    # API tokens are long-lived integration credentials; revoke them in the admin.
    "TOKEN_TTL": None,
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Connector Workbench API",
    "DESCRIPTION": "Live registries, policy, drafts and the tool gateway of the Connector Workbench.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # The schema and the docs answer signed-in users only (token or admin session), like every endpoint.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "ENUM_NAME_OVERRIDES": {
        "DraftStatusEnum": "workbench.models.drafts.WorkbenchDraft.Status",
        "ProbeKindEnum": "workbench.models.probes.Probe.Kind",
        "ProbeStatusEnum": "workbench.models.probes.Probe.Status",
    },
}

# Tool gateway: packages searched for handler modules (`domain.method` -> <package>.domain.method),
# and how long receipts are kept before `purge_receipts` removes them.
WORKBENCH_TOOL_HANDLER_PACKAGES = ["registries.handlers"]
WORKBENCH_RECEIPT_RETENTION_DAYS = int(os.environ.get("WORKBENCH_RECEIPT_RETENTION_DAYS", "90"))
# How long the audit trail keeps security events; `purge_security_events` (run daily) removes older ones.
WORKBENCH_AUDIT_RETENTION_DAYS = env_positive_int("WORKBENCH_AUDIT_RETENTION_DAYS", 365)
# Four eyes on publish: when on, nobody publishes a draft revision they wrote themselves.
WORKBENCH_REQUIRE_REVIEW = env_bool("WORKBENCH_REQUIRE_REVIEW")
# The MCP registry read API (/v0, README "Serving as an MCP registry"): server names are
# <namespace>/<connector_id>; it answers anonymous readers only when made public, else a token holding
# registries.view_connector.
WORKBENCH_REGISTRY_NAMESPACE = os.environ.get("WORKBENCH_REGISTRY_NAMESPACE", "io.workbench.local")
if not re.fullmatch(r"[a-zA-Z0-9.-]+", WORKBENCH_REGISTRY_NAMESPACE):
    # server.schema.json's name pattern is <namespace>/<name> with this namespace part.
    raise ImproperlyConfigured(
        "WORKBENCH_REGISTRY_NAMESPACE is a reverse-DNS name of letters, digits, dots and hyphens, "
        f"e.g. io.workbench.local, not {WORKBENCH_REGISTRY_NAMESPACE!r}."
    )
WORKBENCH_REGISTRY_PUBLIC = env_bool("WORKBENCH_REGISTRY_PUBLIC")
# Who may change what (workbench/tenancy/access.py): the access table the kit's write path, admin and API
# ask, and the platform tenant whose owners and editors are platform staff: the system tenant the seeds
# create (seeds/00_system.json) and publish the example connectors in. Not an environment setting: the
# seeds name it, and a test keeps the two equal.
WORKBENCH_ACCESS_GATE = "workbench.tenancy.access.gate"
# Hostile input (README "Limits"): an API body is at most this many bytes (413 beyond), JSON at most this
# deep (400 beyond); TSV and registry uploads at most this many bytes and rows, checked while reading.
WORKBENCH_API_MAX_BODY_BYTES = int(os.environ.get("WORKBENCH_API_MAX_BODY_BYTES", str(2 * 1024 * 1024)))
# Django's own cap on a request body (files aside), for the admin's forms and the API alike.
DATA_UPLOAD_MAX_MEMORY_SIZE = WORKBENCH_API_MAX_BODY_BYTES
# The draft card posts about eight fields per tool (a 300-tool card some 2,500); the body cap above is
# what bounds the work of parsing a form.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 25_000
WORKBENCH_API_MAX_JSON_DEPTH = int(os.environ.get("WORKBENCH_API_MAX_JSON_DEPTH", "64"))
WORKBENCH_UPLOAD_MAX_BYTES = int(os.environ.get("WORKBENCH_UPLOAD_MAX_BYTES", str(8 * 1024 * 1024)))
WORKBENCH_UPLOAD_MAX_ROWS = int(os.environ.get("WORKBENCH_UPLOAD_MAX_ROWS", "50000"))
FILE_UPLOAD_HANDLERS = [
    "workbench.kit.uploads.CappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
WORKBENCH_PLATFORM_TENANT = "workbench"

# Background work (README "Sandbox probes"): tasks are rows of the project's own database, run by
# `manage.py db_worker` (one or more per deployment). The test settings run them at once, in process.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# The sandbox probe: where installed packages are cached (by registry, identifier and version) and how
# big that cache may grow; the limits one probe runs under; whether a package may run without bubblewrap's
# isolation (local development only, where user namespaces are off); whether publish needs a passing
# probe of the revision; and the directories a probe of kind "local" may start files from (tests only:
# empty in production, so no client can name a file on the server).
WORKBENCH_PROBE_CACHE_DIR = os.environ.get("WORKBENCH_PROBE_CACHE_DIR") or str(BASE_DIR / ".probe-cache")
WORKBENCH_PROBE_CACHE_MB = int(os.environ.get("WORKBENCH_PROBE_CACHE_MB", "2048"))
WORKBENCH_PROBE_INSTALL_SECONDS = int(os.environ.get("WORKBENCH_PROBE_INSTALL_SECONDS", "300"))
WORKBENCH_PROBE_RUN_SECONDS = int(os.environ.get("WORKBENCH_PROBE_RUN_SECONDS", "30"))
WORKBENCH_PROBE_MEMORY_MB = int(os.environ.get("WORKBENCH_PROBE_MEMORY_MB", "512"))
WORKBENCH_PROBE_ALLOW_UNISOLATED = env_bool("WORKBENCH_PROBE_ALLOW_UNISOLATED")
if WORKBENCH_PROBE_ALLOW_UNISOLATED and not DEBUG:
    # Running untrusted packages without bubblewrap is for a developer's machine only: refused at start
    # rather than warned about, so no deployment runs that way by accident.
    raise ImproperlyConfigured(
        "WORKBENCH_PROBE_ALLOW_UNISOLATED runs packages without isolation and is for local development "
        "only: it needs DJANGO_DEBUG on."
    )
WORKBENCH_REQUIRE_PROBE = env_bool("WORKBENCH_REQUIRE_PROBE")
# A probe no worker has started this long after its request is marked failed (probes_recover).
WORKBENCH_PROBE_QUEUE_SECONDS = int(os.environ.get("WORKBENCH_PROBE_QUEUE_SECONDS", "3600"))
WORKBENCH_PROBE_LOCAL_PATHS = []

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}
