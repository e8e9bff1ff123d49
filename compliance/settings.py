"""Django settings for Attest.

Everything that differs between a laptop and production is read from the environment through the
strict readers in :mod:`compliance.env`. The defaults are the embedded development setup (SQLite,
a broker that needs no server, console email); README.md lists every variable.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from compliance.env import env_bool, env_choice, env_int, env_list, env_optional, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
# Runtime state (SQLite file, uploaded files, broker folders) lives outside the web root.
DATA_DIR = Path(env_str("ATTEST_DATA_DIR", str(BASE_DIR / "var"))).resolve()

DEBUG = env_bool("DEBUG", False)
TESTING = env_bool("ATTEST_TESTING", False)


def _remediation_days(value: str) -> dict[str, int]:
    days: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in value.split(","))):
        name, _, number = part.partition("=")
        if (
            name.strip() not in {"critical", "high", "medium", "low"}
            or not number.strip().isdigit()
        ):
            raise ImproperlyConfigured(
                f"REMEDIATION_DAYS: {part!r} should look like critical=7 "
                "(severities: critical, high, medium, low)."
            )
        days[name.strip()] = int(number)
    missing = {"critical", "high", "medium", "low"} - set(days)
    if missing:
        raise ImproperlyConfigured(f"REMEDIATION_DAYS lacks {', '.join(sorted(missing))}.")
    return days


SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = "insecure-development-key-never-use-in-production"  # noqa: S105
    else:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG is off.")

SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
_site = urlsplit(SITE_URL)
if _site.scheme not in {"http", "https"} or not _site.hostname:
    raise ImproperlyConfigured(f"SITE_URL={SITE_URL!r} must be an absolute http(s) URL.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [_site.hostname, "localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [f"{_site.scheme}://{_site.netloc}"])

INSTALLED_APPS = [
    # Django's admin, minus its own sign-in form (see compliance/admin_site.py).
    "compliance.admin_site.AttestAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_htmx",
    "compliance",
    "controls",
    "evidence",
    "policies",
    "people",
    "vendors",
    "audits",
    "trust",
]

MIDDLEWARE = [
    "compliance.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy (per-request nonce), Permissions-Policy, no-store when signed in.
    "compliance.middleware.SecurityHeadersMiddleware",
    # Before the session, authentication or a view reads the request: a NUL anywhere in it is a
    # 400 (with the security headers above), never a database error.
    "compliance.middleware.RejectNullCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

if not (DEBUG or TESTING):
    # Serves the collected static files under gunicorn; runserver and the test server serve
    # them from the apps directly.
    MIDDLEWARE.insert(2, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "compliance.urls"
WSGI_APPLICATION = "compliance.wsgi.application"
ASGI_APPLICATION = "compliance.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "compliance.context_processors.organization",
                "compliance.context_processors.csp_nonce",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'attest.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
        # A pooled connection that died (PostgreSQL restarted, failover) is replaced at the start
        # of the next request instead of failing it.
        conn_health_checks=True,
    )
}
# PostgreSQL's JIT compiles every query planned above `jit_above_cost`; Attest sends short indexed
# queries that never gain from it and pay tens of milliseconds of compilation when a plan's
# estimate runs high (README, "Production"). Off for Attest's own connections unless
# DATABASE_JIT=server leaves the server's setting (for a pooler that refuses startup options).
DATABASE_JIT = env_choice("DATABASE_JIT", "off", {"off", "server"})
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DATABASE_JIT == "off":
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The test runs' covering indexes (INCLUDE status) are PostgreSQL's; the embedded SQLite
    # default builds them without the extra column, which only costs speed there.
    SQLITE_SILENCED_CHECKS = ["models.W040"]
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (login throttling) -------------------------------------------------------------------
REDIS_URL = env_optional("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "attest"),
            # An unreachable Redis fails fast; the throttle then counts in the database.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    # Shared between the web process and workers without a server.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

# --- Authentication -----------------------------------------------------------------------------
AUTH_USER_MODEL = "compliance.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Failed sign-ins allowed per account and per client address within the window.
LOGIN_THROTTLE_ATTEMPTS = env_int("LOGIN_THROTTLE_ATTEMPTS", 5, minimum=1)
LOGIN_THROTTLE_WINDOW = env_int("LOGIN_THROTTLE_WINDOW", 900, minimum=1)
# The name authenticator apps show next to the account (two-factor sign-in).
MFA_ISSUER = env_str("MFA_ISSUER", "Attest")
# Seconds between the password and the authenticator code before signing in starts again.
MFA_PENDING_SECONDS = 300
# How many reverse proxies append to X-Forwarded-For in front of the app (0: none, trust no header).
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0, minimum=0)
INVITATION_TTL_DAYS = env_int("INVITATION_TTL_DAYS", 7, minimum=1)
# Who may create organizations (operators, i.e. staff and superusers, always may): "anyone"
# signed in, "not_auditors" (people holding a role other than auditor somewhere) or "operators".
ORGANIZATION_CREATORS = env_choice(
    "ORGANIZATION_CREATORS", "not_auditors", {"anyone", "not_auditors", "operators"}
)
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 3600, minimum=60)
# The answer library: a suggestion whose confidence (0-100 %) is below this is flagged "no good
# match" instead (docs/questionnaires.md; benchmarks/test_bench_answers.py measures it).
ANSWER_SUGGESTION_THRESHOLD = env_int("ANSWER_SUGGESTION_THRESHOLD_PERCENT", 30, minimum=1) / 100
ANONYMOUS_USER_NAME = None  # django-guardian: no anonymous user row; anonymous sees nothing.
GUARDIAN_RAISE_403 = True

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600, minimum=300)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
_secure = _site.scheme == "https"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", _secure)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Under /api/ a CSRF failure is a JSON error like every other; elsewhere Django's page.
CSRF_FAILURE_VIEW = "compliance.views.errors.csrf_failure"
# With an https SITE_URL, plain-HTTP requests are redirected (behind a proxy, BEHIND_TLS_PROXY says
# which requests were HTTPS). The health check is answered on plain HTTP inside the network.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _secure)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if _secure else 0, minimum=0)
# Subdomains are covered too (an http:// sibling could otherwise set cookies for this host).
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# "preload" asks browsers to ship the domain in their HTTPS-only list: a commitment for the whole
# registrable domain that is slow to undo, so only its owner can opt in (README, Production).
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Without "preload" `check --deploy` warns (security.W021); leaving it off is the decision above.
SILENCED_SYSTEM_CHECKS = ([] if SECURE_HSTS_PRELOAD else ["security.W021"]) + (
    SQLITE_SILENCED_CHECKS if DATABASES["default"]["ENGINE"].endswith("sqlite3") else []
)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "files")},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Evidence files -----------------------------------------------------------------------------
# Uploads stream to a temporary file next to the storage (hashed on the way) and are moved into
# place; nothing is held in memory. Files live outside the web root and are served only by the
# permission-checked download view.
EVIDENCE_ROOT = Path(env_str("EVIDENCE_ROOT", str(DATA_DIR / "evidence")))
# Where uploads land while they stream in: beside the files, so storing one is a hard link.
EVIDENCE_INCOMING_DIR = Path(env_str("EVIDENCE_INCOMING_DIR", str(EVIDENCE_ROOT / ".incoming")))
FILE_UPLOAD_HANDLERS = ["evidence.uploads.HashingUploadHandler"]
# A file in the incoming folder untouched for this long is a dead upload (its web worker was
# killed mid-request): the hourly sweep deletes it, and the integrity sweep reports any still
# there. An upload in progress touches its file with every chunk it receives.
EVIDENCE_INCOMING_MAX_AGE_HOURS = env_int("EVIDENCE_INCOMING_MAX_AGE_HOURS", 6, minimum=1)
FILE_UPLOAD_PERMISSIONS = 0o640
EVIDENCE_MAX_UPLOAD_BYTES = env_int("EVIDENCE_MAX_UPLOAD_MB", 5120, minimum=1) * 1024 * 1024
# File types accepted as evidence, by extension (the content must agree; see evidence.uploads).
EVIDENCE_ALLOWED_EXTENSIONS = env_list(
    "EVIDENCE_ALLOWED_EXTENSIONS",
    [
        "pdf", "png", "jpg", "jpeg", "gif", "webp", "txt", "csv", "json", "md", "log", "xml",
        "html", "htm", "svg", "docx", "xlsx", "pptx", "odt", "ods", "zip", "gz", "eml",
    ],
)  # fmt: skip
EVIDENCE_STORAGE_BUCKET = env_optional("EVIDENCE_S3_BUCKET")
if EVIDENCE_STORAGE_BUCKET:
    EVIDENCE_STORAGE: dict[str, object] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": EVIDENCE_STORAGE_BUCKET,
            "endpoint_url": env_optional("EVIDENCE_S3_ENDPOINT_URL"),
            "region_name": env_optional("EVIDENCE_S3_REGION"),
            "access_key": env_optional("EVIDENCE_S3_ACCESS_KEY_ID"),
            "secret_key": env_optional("EVIDENCE_S3_SECRET_ACCESS_KEY"),
            "file_overwrite": False,
            "default_acl": "private",
            "querystring_auth": True,
        },
    }
else:
    EVIDENCE_STORAGE = {
        "BACKEND": "evidence.storage.EvidenceFileSystemStorage",
        "OPTIONS": {"location": str(EVIDENCE_ROOT)},
    }
STORAGES["evidence"] = EVIDENCE_STORAGE
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024  # request bodies other than files
# Acknowledgement links for people without a login.
ACKNOWLEDGEMENT_LINK_DAYS = env_int("ACKNOWLEDGEMENT_LINK_DAYS", 30, minimum=1)
# The trust page's gated documents: how long an approved request's link works, and how many
# access requests one address or one email may send per window (seconds).
TRUST_ACCESS_DAYS = env_int("TRUST_ACCESS_DAYS", 30, minimum=1)
TRUST_REQUEST_LIMIT = env_int("TRUST_REQUEST_LIMIT", 5, minimum=1)
TRUST_REQUEST_WINDOW = env_int("TRUST_REQUEST_WINDOW", 3600, minimum=60)
# Downloads of trust documents (public or through a link) one address may make per window.
TRUST_DOWNLOAD_LIMIT = env_int("TRUST_DOWNLOAD_LIMIT", 100, minimum=1)
# Vendor documents: how many days before its valid-until date the owner is reminded (and "My
# work" lists it to renew).
VENDOR_DOCUMENT_REMINDER_DAYS = env_int("VENDOR_DOCUMENT_REMINDER_DAYS", 30, minimum=1)
# Vendor questionnaires answered through a link: a file a vendor's contact attaches, at most.
VENDOR_QUESTIONNAIRE_MAX_FILE_BYTES = (
    env_int("VENDOR_QUESTIONNAIRE_MAX_FILE_MB", 25, minimum=1) * 1024 * 1024
)
# Requests to questionnaire links one client address may send in 10 minutes (then 429).
VENDOR_QUESTIONNAIRE_LINK_RATE = env_int("VENDOR_QUESTIONNAIRE_LINK_RATE", 300, minimum=1)

# --- Automated control tests --------------------------------------------------------------------
# Fernet keys for integration credentials, newest first (see controls.integrations.crypto).
INTEGRATIONS_ENCRYPTION_KEYS = env_list("INTEGRATIONS_ENCRYPTION_KEYS", [])
# Days to fix a failing resource, by the test's severity: "critical=7,high=30,medium=90,low=180".
REMEDIATION_DAYS = _remediation_days(
    env_str("REMEDIATION_DAYS", "critical=7,high=30,medium=90,low=180")
)
# Runs that were queued but never started (the broker lost them, or was down) are handed to
# the broker again after this many seconds; a run is given up after this many attempts.
CONTROL_TEST_REQUEUE_AFTER = env_int("CONTROL_TEST_REQUEUE_AFTER", 600, minimum=30)
CONTROL_TEST_MAX_ATTEMPTS = env_int("CONTROL_TEST_MAX_ATTEMPTS", 3, minimum=1)
# While a check runs, its worker refreshes the run's heartbeat every HEARTBEAT_SECONDS; a run
# whose heartbeat stopped HEARTBEAT_TIMEOUT seconds ago and whose worker's database session is
# gone (a killed worker) is handed to another worker by the next dispatch.
# Per-resource results of automated test runs older than this many days are deleted by the
# hourly retention sweep (manage.py summarise_test_results does the same at once). The runs
# themselves, their outcome and pass/fail counts, are kept for ever, and so are the results of
# each test's latest run (readiness reads its failing resources).
TEST_RESULT_RETENTION_DAYS = env_int("TEST_RESULT_RETENTION_DAYS", 90, minimum=1)
CONTROL_TEST_HEARTBEAT_SECONDS = env_int("CONTROL_TEST_HEARTBEAT_SECONDS", 15, minimum=1)
CONTROL_TEST_HEARTBEAT_TIMEOUT = env_int("CONTROL_TEST_HEARTBEAT_TIMEOUT", 90, minimum=3)
if CONTROL_TEST_HEARTBEAT_TIMEOUT < 3 * CONTROL_TEST_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        "CONTROL_TEST_HEARTBEAT_TIMEOUT must be at least three CONTROL_TEST_HEARTBEAT_SECONDS, "
        "or a slow database would hand over runs that are alive."
    )
# The web checks verify certificates against the system's CAs, or against this PEM file instead
# when it is set (a private CA that signs internal sites).
WEB_CHECKS_CA_BUNDLE = env_str("WEB_CHECKS_CA_BUNDLE")
# Web checks refuse hosts that resolve to loopback, private, link-local (cloud metadata) or
# other non-public addresses, so a test cannot be used to probe the internal network. Set this
# when Attest should check internal sites.
WEB_CHECKS_ALLOW_PRIVATE_ADDRESSES = env_bool("WEB_CHECKS_ALLOW_PRIVATE_ADDRESSES", False)
# Modules imported with the check registry besides ``controls.checks.*``. Empty in production;
# the test settings let a worker load test-only checks (tests/controls/slow_checks.py).
CONTROL_TEST_EXTRA_CHECK_MODULES: list[str] = []

# --- Email --------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Attest <attest@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ADMINS = [("Attest operators", email) for email in env_list("ADMINS", [])]

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "compliance.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [],
    # JSON bodies only, as the schema documents; the upload endpoints (evidence, the people
    # import) take multipart themselves. Form bodies turned "" into null where JSON says a date.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "compliance.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "compliance.api.schema.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "compliance.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Attest API",
    "DESCRIPTION": (
        "The whole compliance program of an organization, by area: **organizations** (members "
        "and invitations), **frameworks** (catalogs, requirements, adopted frameworks and "
        "scope), **controls** (owners, status, mappings to requirements), **readiness** (per "
        "framework and category, and weekly snapshots), **monitoring** (automated control "
        "tests, integrations, runs, findings, exceptions, the check registry and pushed "
        "results), **evidence** (items, revisions, reviews, recurring requests), **policies** "
        "(versions, approval, acknowledgements), **people** (the roster, onboarding records, "
        "CSV import), **vendors** (inventory, due-diligence reviews, security questionnaires "
        "sent to vendors), **weekly** (the "
        "weekly meeting's notes and action items), **reports** (the gap analysis as XLSX "
        "or PDF), **audits** (engagements; for their auditors, what lies within each, and "
        "their requests for evidence and findings) and **trust** (the trust page's documents, "
        "access requests and download log) and **questionnaires** (the answer library and "
        "imported security questionnaires with suggestions, decisions and export).\n\n"
        "Authenticate with a personal API token: `Authorization: Bearer att_…`; pushed test "
        "results use the test's own push token. Lists are paginated (`page`, `page_size` up to "
        "500). Errors are JSON: `detail`, or each field or query parameter at fault with its "
        "messages."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Tags by area and the error responses of every operation (compliance/api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "compliance.api.schema.postprocess",
    ],
    "ENUM_NAME_OVERRIDES": {
        # Evidence's "kind" keeps the name it had before integrations also had a "kind".
        "KindEnum": "evidence.models.EvidenceKind",
        "IntegrationKindEnum": "controls.models.IntegrationKind",
        "RunStatusEnum": "controls.models.RunStatus",
        "ResultStatusEnum": "controls.models.ResultStatus",
        # Vendors show tiers and outcomes under several field names (risk_tier, last_outcome).
        "RiskTierEnum": "vendors.models.RiskTier",
        "VendorReviewOutcomeEnum": "vendors.models.ReviewOutcome",
        "VendorQuestionnaireStatusEnum": "vendors.models.QuestionnaireStatus",
        "VendorQuestionAnswerKindEnum": "vendors.models.AnswerKind",
        # Vendor documents: the type, a SOC 2 report's opinion, our assessment of an exception.
        "VendorDocumentTypeEnum": "vendors.models.DocumentType",
        "VendorAuditOpinionEnum": "vendors.models.AuditOpinion",
        "VendorExceptionAssessmentEnum": "vendors.models.ExceptionAssessment",
        # Engagements, requests and findings have statuses and severities of their own.
        "AuditStatusEnum": "audits.models.AuditStatus",
        "AuditRequestStatusEnum": "audits.models.RequestStatus",
        "AuditFindingStatusEnum": "audits.models.FindingStatus",
        "AuditFindingSeverityEnum": "audits.models.FindingSeverity",
        # The trust page's documents and access requests.
        "TrustDocumentAccessEnum": "trust.models.DocumentAccess",
        "TrustAccessRequestStatusEnum": "trust.models.AccessRequestStatus",
        # The answer library: a questionnaire's format and status, a row's decision.
        "QuestionnaireFormatEnum": "trust.models.QuestionnaireFormat",
        "QuestionnaireStatusEnum": "trust.models.QuestionnaireStatus",
        "QuestionnaireRowDecisionEnum": "trust.models.RowDecision",
    },
}

# --- Celery -------------------------------------------------------------------------------------
# Without a broker URL the embedded default keeps messages in folders on disk, so `make run`
# needs no server. Production and the test suite use Redis.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing gives up on an unreachable broker within seconds (``run_now`` answers the user and
# the dispatcher hands the run over later); kombu's connection retries stop after this long.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = DATA_DIR / "broker"
    # kombu's filesystem transport does not create its folders; any process may publish first.
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),  # broadcast messages (default: ./control)
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than the longest task: a message unacked for this long is redelivered.
        # At least a minute in production; the reliability tests recover a killed worker's
        # message within seconds (tests/controls/test_reliability.py).
        "visibility_timeout": env_int(
            "CELERY_VISIBILITY_TIMEOUT", 3600, minimum=5 if TESTING else 60
        ),
        # Workers look for messages of a dead worker whose visibility timeout has passed every
        # 10 s. kombu scans on every Nth look (`throttle`); N = 1 makes the interval the period
        # (its default, 10 x 10 s, takes 100 s; the 30 this was set to took five minutes).
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
        # A broker that hangs (frozen, or gone without closing the connection) fails a command
        # after this many seconds instead of never; kombu's BRPOP answers within 1 s.
        "socket_timeout": 3,
        "socket_connect_timeout": 2,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360, minimum=1)
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")


def _beat_schedule() -> dict[str, dict[str, object]]:
    """The whole periodic schedule, in one place.

    Each entry can be moved with ``BEAT_<NAME>`` set to a five-field cron expression, or turned
    off with ``BEAT_<NAME>=disable``. ``expires`` is below the interval so that a backlog after an
    outage does not run the same job many times.
    """
    entries = [
        # name, task, default cron, expires (seconds)
        ("audit_trail_verify", "compliance.tasks.audit_trail_verify", "17 3 * * *", 23 * 3600),
        ("email_flush_outbox", "compliance.tasks.email_flush_outbox", "*/5 * * * *", 240),
        # Readiness: a full recomputation per organization once after its local midnight
        # (dates make evidence stale and reviews due); repairs and reports drift.
        ("readiness_tick", "compliance.tasks.readiness_tick", "13 * * * *", 3000),
        # Weekly readiness snapshots: each organization's last completed week once its
        # snapshot weekday and hour have come (local time), and missed weeks before it.
        ("snapshot_tick", "compliance.tasks.snapshot_tick", "19 * * * *", 3000),
        # Evidence requests: create due occurrences, mark overdue ones, send reminders.
        ("evidence_requests_tick", "evidence.tasks.requests_tick", "7 * * * *", 3000),
        # Delete partial uploads left in the incoming folder by killed web workers.
        ("evidence_incoming_sweep", "evidence.tasks.incoming_sweep", "29 * * * *", 3000),
        # Re-hash every stored evidence file; a mismatch is an alert, never repaired.
        ("evidence_integrity_sweep", "evidence.tasks.integrity_sweep", "41 2 * * *", 23 * 3600),
        # Policies: yearly re-acknowledgement and review-due reminders.
        ("policies_tick", "policies.tasks.policies_tick", "23 6 * * *", 23 * 3600),
        # People: offboarding past its SLA, annual training coming due.
        ("people_tick", "people.tasks.people_tick", "53 6 * * *", 23 * 3600),
        # Control tests: enqueue what is due (catching up after an outage, one run per slot),
        # hand lost runs to the broker again, close expired exceptions.
        ("control_tests_dispatch", "controls.tasks.dispatch_control_tests", "* * * * *", 55),
        # Control tests: delete per-resource results past TEST_RESULT_RETENTION_DAYS (run
        # outcomes and counts are kept), a bounded amount per pass.
        ("test_results_retention", "controls.tasks.run_results_retention", "37 * * * *", 3000),
        # Control tests: each organization's closed days rolled up for the daily pass rate.
        ("test_runs_roll_up", "controls.tasks.roll_up_test_runs", "3 * * * *", 3000),
        # Vendor documents: owners emailed once when one expires within
        # VENDOR_DOCUMENT_REMINDER_DAYS, and once when it has expired.
        ("vendor_documents_tick", "vendors.tasks.vendor_documents_tick", "47 6 * * *", 23 * 3600),
    ]
    schedule: dict[str, dict[str, object]] = {}
    for name, task, default, expires in entries:
        variable = f"BEAT_{name.upper()}"
        cron = env_str(variable, default).strip()
        if cron.lower() == "disable":
            continue
        fields = cron.split()
        if len(fields) != 5:
            raise ImproperlyConfigured(
                f"{variable}={cron!r} must be a five-field cron expression or 'disable'."
            )
        minute, hour, day_of_month, month_of_year, day_of_week = fields
        try:
            when = crontab(
                minute=minute,
                hour=hour,
                day_of_month=day_of_month,
                month_of_year=month_of_year,
                day_of_week=day_of_week,
            )
        except ValueError as exc:
            raise ImproperlyConfigured(f"{variable}={cron!r}: {exc}") from exc
        schedule[name] = {"task": task, "schedule": when, "options": {"expires": expires}}
    return schedule


CELERY_BEAT_SCHEDULE = _beat_schedule()

# --- Logging ------------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "compliance.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
    },
}
