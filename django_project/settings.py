"""Django settings for resolwe-prefect, read from the environment.

The embedded default needs no configuration at all: state lives in
``./.resolwe-prefect`` (or ``RESOLWE_PREFECT_HOME``) and the database is a
SQLite file there. A cluster sets ``DATABASE_URL`` to PostgreSQL and
``PREFECT_API_URL`` to its Prefect server.
"""

import json
import os
from pathlib import Path

import dj_database_url

from django_project.state import private_value, state_dir

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = state_dir(Path(os.environ.get("RESOLWE_PREFECT_HOME", Path.cwd() / ".resolwe-prefect")))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_json(name: str, default):
    value = os.environ.get(name)
    return default if value is None else json.loads(value)


# Signs sessions and download URLs and encrypts stored secrets: generated at first start and kept
# in the state directory (0600) unless the site gives its own.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or private_value(STATE_DIR / "secret-key")
DEBUG = _env_bool("DJANGO_DEBUG", False)


def _allowed_hosts() -> list[str]:
    """``DJANGO_ALLOWED_HOSTS`` (comma-separated) when given; else loopback plus the host ``up --host`` binds.

    Django builds absolute links from the ``Host`` header, so accepting any
    host let a client plant its own in the links it got back. ``resolwe-prefect
    up`` passes a non-loopback ``--host`` as ``RESOLWE_PREFECT_API_HOST``; a
    wildcard (``0.0.0.0``, ``::``) names no host, so such a site sets
    ``DJANGO_ALLOWED_HOSTS`` to the names clients use.
    """
    given = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h.strip()]
    if given:
        return given
    hosts = ["localhost", "127.0.0.1", "[::1]"]
    bound = os.environ.get("RESOLWE_PREFECT_API_HOST", "").strip().strip("[]")
    if bound and bound not in ("0.0.0.0", "::", "*"):
        hosts.append(f"[{bound}]" if ":" in bound else bound)
    return hosts


ALLOWED_HOSTS = _allowed_hosts()
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "resolwe_prefect.accounts",
    "resolwe_prefect.permissions",
    "resolwe_prefect.processes",
    "resolwe_prefect.descriptors",
    "resolwe_prefect.entities",
    "resolwe_prefect.data",
    "resolwe_prefect.storage",
    "resolwe_prefect.annotations",
    "resolwe_prefect.relations",
    "resolwe_prefect.uploads",
    "resolwe_prefect.secrets",
    "resolwe_prefect.tasks",
    "resolwe_prefect.execution",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "django_project.urls"
WSGI_APPLICATION = "django_project.wsgi.application"
ASGI_APPLICATION = "django_project.asgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{STATE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("postgresql") and os.environ.get("DATABASE_POOL_MAX", "20") != "0":
    # A connection pool per process (Django's psycopg pool). Under ASGI every
    # request runs in a thread of its own, so persistent per-thread
    # connections pile up in a burst of requests ("too many clients"); the
    # pool caps them and hands them on instead.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": int(os.environ.get("DATABASE_POOL_MAX", "20")),
        "timeout": 60,
    }
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The API and the worker are separate processes: WAL lets readers run
    # beside the writer, and IMMEDIATE transactions queue writers instead of
    # failing them with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
if os.environ.get("DATABASE_TEST_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["DATABASE_TEST_NAME"]}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = STATE_DIR / "static"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        # HTTP basic auth whose failures count towards LOGIN_FAILURE_RATE (429 past it).
        "resolwe_prefect.accounts.throttling.ThrottledBasicAuthentication",
    ],
    # JSON bodies bounded in size (DATA_UPLOAD_MAX_MEMORY_SIZE) and depth, with storable text only.
    "DEFAULT_PARSER_CLASSES": [
        "resolwe_prefect.api.parsers.JSONParser",
        "resolwe_prefect.api.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PAGINATION_CLASS": "resolwe_prefect.api.pagination.LimitOffsetOnRequestPagination",
    "PAGE_SIZE": None,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_METADATA_CLASS": "resolwe_prefect.api.metadata.ResolweMetadata",
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%f%z",
    "EXCEPTION_HANDLER": "resolwe_prefect.api.exceptions.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "resolwe-prefect API",
    "DESCRIPTION": "Resolwe's REST API, served by Django, executed by Prefect.",
    "VERSION": "0.1.0",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "resolwe_prefect.api.schema.document_error_responses",
    ],
}

# --- Resolwe flow settings (Resolwe's names) -------------------------------------------

FLOW_PROCESSES_DIRS = [BASE_DIR / "processes"] + [
    Path(p) for p in os.environ.get("RESOLWE_PREFECT_PROCESS_PATHS", "").split(os.pathsep) if p
]
# Base classes of Python processes whose package every program gets beside resolwe.process
# (resolwe-bio's sites add "resolwe_bio.process.runtime.ProcessBio"), as in Resolwe.
FLOW_PROCESSES_RUNTIMES = ["resolwe.process.runtime.Process"]
FLOW_DESCRIPTORS_DIRS = [BASE_DIR / "processes" / "descriptors"] + [
    Path(p) for p in os.environ.get("RESOLWE_PREFECT_DESCRIPTOR_PATHS", "").split(os.pathsep) if p
]
FLOW_EXECUTOR = {
    # Where every Data object gets its own directory (``<DATA_DIR>/<data id>``).
    "DATA_DIR": Path(os.environ.get("RESOLWE_PREFECT_DATA_DIR", STATE_DIR / "data")),
    # Where chunked uploads land until a process imports them.
    "UPLOAD_DIR": Path(os.environ.get("RESOLWE_PREFECT_UPLOAD_DIR", STATE_DIR / "upload")),
    # Which seam runs the program: ``local`` (subprocess); containers come later.
    "BACKEND": os.environ.get("RESOLWE_PREFECT_BACKEND", "local"),
    # Extra environment variables handed to every program.
    "SET_ENV": _env_json("RESOLWE_PREFECT_SET_ENV", {}),
    # Local programs run in a bubblewrap sandbox ("bwrap"); "none" runs them as we run (trusted code only).
    "SANDBOX": os.environ.get("RESOLWE_PREFECT_SANDBOX", "bwrap"),
    # Host paths every sandboxed program may read besides the system directories (e.g. a tools tree).
    "SANDBOX_READ_ONLY_PATHS": [
        p for p in os.environ.get("RESOLWE_PREFECT_SANDBOX_READ_ONLY_PATHS", "").split(os.pathsep) if p
    ],
    # Each run gets its own uid, RUN_UID_BASE + data id; RUN_AS ("uid[:gid]" or a name) pins one for all.
    "RUN_UID_BASE": int(os.environ.get("RESOLWE_PREFECT_RUN_UID_BASE", "1000000000")),
    "RUN_AS": os.environ.get("RESOLWE_PREFECT_RUN_AS", ""),
    # Docker backend: the image for processes that name none, and the container user.
    "DOCKER_DEFAULT_IMAGE": os.environ.get("RESOLWE_PREFECT_DOCKER_IMAGE", "resolwe-prefect/base:bookworm-py"),
    # Empty: every container runs as its run's own uid (as local programs do); "uid:gid" pins one.
    "DOCKER_USER": os.environ.get("RESOLWE_PREFECT_DOCKER_USER", ""),
    # Never (default): a missing image fails the run; IfNotPresent or Always pull through the engine.
    "DOCKER_PULL_POLICY": os.environ.get("RESOLWE_PREFECT_DOCKER_PULL_POLICY", "IfNotPresent"),
    # Seconds an interactive (scheduling class IN) program may run.
    "INTERACTIVE_TIMEOUT": float(os.environ.get("RESOLWE_PREFECT_INTERACTIVE_TIMEOUT", "300")),
}
# Directories whose files may be given to upload processes by local path.
FLOW_LOCAL_IMPORT_ROOTS = [p for p in os.environ.get("RESOLWE_PREFECT_IMPORT_ROOTS", "").split(os.pathsep) if p]
# Whether file_temp and basic:url:download URLs may name loopback, private, link-local... hosts
# (core/url_policy.py); off, so users cannot make the server fetch from inside its own network.
FLOW_IMPORT_ALLOW_PRIVATE_URLS = _env_bool("RESOLWE_PREFECT_IMPORT_ALLOW_PRIVATE_URLS", False)
# The largest file /upload/ accepts (_totalSize), in bytes: 1 TiB.
FLOW_UPLOAD_MAX_SIZE = int(os.environ.get("RESOLWE_PREFECT_UPLOAD_MAX_SIZE", 1 << 40))
# Failed logins (login endpoints and basic auth) per identifier and per client address before 429:
# "10/5m" is ten in five minutes (accounts/throttling.py). Counted in the default cache.
LOGIN_FAILURE_RATE = os.environ.get("RESOLWE_PREFECT_LOGIN_FAILURE_RATE", "10/5m")
CACHES = _env_json(
    "DJANGO_CACHES",
    {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "resolwe-prefect"}},
)
# Request bodies read into memory (JSON, forms; not uploaded files): over this, 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024))
FLOW_PROCESS_MAX_CORES = int(os.environ.get("FLOW_PROCESS_MAX_CORES", os.cpu_count() or 1))
FLOW_PROCESS_MAX_MEMORY = int(os.environ.get("FLOW_PROCESS_MAX_MEMORY", 64 * 1024))
FLOW_PROCESS_RESOURCE_DEFAULTS = _env_json(
    "FLOW_PROCESS_RESOURCE_DEFAULTS", {"cores": 1, "memory": 4096, "storage": 10}
)
FLOW_PROCESS_RESOURCE_OVERRIDES = _env_json("FLOW_PROCESS_RESOURCE_OVERRIDES", {})
FLOW_EXPRESSION_ENGINES = _env_json("FLOW_EXPRESSION_ENGINES", [])
RESOLWE_HOST_URL = os.environ.get("RESOLWE_HOST_URL", "localhost")

# --- Prefect -----------------------------------------------------------------------------

# Where operators open a flow run; the Data API links each Data object's run there.
PREFECT_UI_URL = (
    os.environ.get("PREFECT_UI_URL")
    or os.environ.get("PREFECT_API_URL", "http://127.0.0.1:4200/api").removesuffix("/api")
).rstrip("/")
PREFECT_DEPLOYMENT = os.environ.get("RESOLWE_PREFECT_DEPLOYMENT", "resolwe-data/local")
PREFECT_WORK_POOL = os.environ.get("RESOLWE_PREFECT_WORK_POOL", "resolwe-local")
# Every active process gets a deployment of the launch flow, so operators can run it from the
# Prefect UI's form; the Data objects such runs create belong to this user.
LAUNCH_DEPLOYMENTS = os.environ.get("RESOLWE_PREFECT_LAUNCH_DEPLOYMENTS", "1").lower() not in ("0", "false", "no", "")
LAUNCH_SERVICE_USER = os.environ.get("RESOLWE_PREFECT_LAUNCH_USER", "prefect-launch")
# How many programs one worker runs at once; defaults to the machine's cores.
WORKER_CONCURRENCY = int(os.environ.get("RESOLWE_PREFECT_WORKER_CONCURRENCY", os.cpu_count() or 1))
# Slots kept for interactive processes (their own "interactive" work queue), on top of the batch slots.
WORKER_INTERACTIVE_SLOTS = int(
    os.environ.get("RESOLWE_PREFECT_WORKER_INTERACTIVE_SLOTS", max(1, (os.cpu_count() or 1) // 2))
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "resolwe_prefect": {"handlers": ["console"], "level": os.environ.get("RESOLWE_PREFECT_LOG_LEVEL", "INFO")},
        # A 500 answers with a short JSON body; its traceback goes to the API's log.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}

# Process slugs the dispatcher resolves and runs (empty: all) and never does (wins over the allow list);
# read, as in Resolwe, from the environment as JSON lists too.
FLOW_PROCESSES_ALLOW_LIST: list[str] = _env_json("FLOW_PROCESSES_ALLOW_LIST", None) or []
FLOW_PROCESSES_IGNORE_LIST: list[str] = _env_json("FLOW_PROCESSES_IGNORE_LIST", None) or []

# Resolwe's storage framework (resolwe_prefect/storage): connectors with their copy and delete rules,
# in Resolwe's shape, set through RESOLWE_PREFECT_SETTINGS; without any, Data files stay on the local
# disk (the "local" connector on FLOW_EXECUTOR["DATA_DIR"] always exists).
STORAGE_LOCAL_CONNECTOR = "local"
STORAGE_CONNECTORS: dict = {}
# Without a volume shared by the API and every worker (Kubernetes without ReadWriteMany), a flow run's
# Data directories are scratch: inputs are staged from object storage and results published there.
STORAGE_LOCAL_SCRATCH = _env_bool("RESOLWE_PREFECT_STORAGE_LOCAL_SCRATCH", False)
# Resolwe's FLOW_STORAGE: {"upload": {"connectors": ["S3"]}} offers resdk direct uploads to that S3 connector.
FLOW_STORAGE: dict = {}
# Seconds between the scheduled passes of the storage manager and cleanup (a Prefect deployment).
STORAGE_MANAGER_INTERVAL = int(os.environ.get("RESOLWE_PREFECT_STORAGE_INTERVAL", "3600"))

# Resolwe settings by their Resolwe names, as one JSON object, e.g.
# RESOLWE_PREFECT_SETTINGS='{"FLOW_PROCESS_MAX_CORES": 1, "FLOW_EXECUTOR": {"SET_ENV": {"A": "b"}}}'.
# FLOW_EXECUTOR is merged key by key; everything else replaces the default.
for _name, _value in _env_json("RESOLWE_PREFECT_SETTINGS", {}).items():
    if _name == "FLOW_EXECUTOR":
        FLOW_EXECUTOR.update(_value)
    else:
        globals()[_name] = _value
