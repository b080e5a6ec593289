"""Settings for hmsportal, read from the environment.

With no environment at all the portal runs on the embedded default: SQLite under var/,
Celery tasks executed eagerly in-process, e-mail to the console, the embedded registry and
a development login. Every variable is documented in README.md.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from stdnum.no import kontonr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("HMSPORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG: bool = env.bool("DEBUG", default=True)

_INSECURE_DEV_SECRET = "django-insecure-hmsportal-development-only"  # noqa: S105 - DEBUG only


def _required_secret(name: str, debug_default: str) -> str:
    """Secrets have no default in production: start-up stops and names the variable."""
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return debug_default
    raise ImproperlyConfigured(f"{name} must be set when DEBUG is off (see README.md).")


SECRET_KEY = _required_secret("SECRET_KEY", _INSECURE_DEV_SECRET)
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The public address of the portal; QR codes printed on cards lead to PORTAL_BASE_URL/status/<n>/.
PORTAL_BASE_URL: str = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # Django's admin, on an admin site that asks staff for a second factor (hmsportal/admin_site.py).
    "hmsportal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # The Content-Security-Policy header (django-csp 4; the policy is under Security below).
    "csp",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "hmsportal",
    "registry",
    "cards",
    "orders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # The client address on audit entries written while a request is served.
    "hmsportal.middleware.audit_client_address",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's, except that a background poll does not keep an idle session alive.
    "hmsportal.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Sets request.user.is_verified(): has the user given a second factor in this session?
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # request.htmx: the order page's progress is polled with htmx (django-htmx).
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "hmsportal.middleware.RegistersAnswerPeopleQuickly",
    # Innermost, so the page has the visitor's language and menu.
    "hmsportal.middleware.method_not_allowed_page",
]

ROOT_URLCONF = "hmsportal.urls"
WSGI_APPLICATION = "hmsportal.wsgi.application"
AUTH_USER_MODEL = "hmsportal.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "after_login"
LOGOUT_REDIRECT_URL = "home"
# A form posted without a valid CSRF token gets the portal's own page ("the form expired").
CSRF_FAILURE_VIEW = "hmsportal.views.errors.csrf_failure"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hmsportal.context_processors.portal",
            ],
        },
    },
]

# --- Database: SQLite under var/ unless DATABASE_URL names another (postgres://…).
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'hmsportal.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DATABASE_PREPARED_STATEMENTS", default=True
):
    # Parameters travel apart from the SQL and psycopg prepares a statement once a connection
    # has run it five times, so PostgreSQL stops planning it again: on the status lookup that is
    # more than half of the database's CPU (bench/README.md). Django leaves both off for the
    # sake of poolers that cannot keep prepared statements (PgBouncer in transaction mode
    # before 1.21): behind one of those, set DATABASE_PREPARED_STATEMENTS=0.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite serialises writers; a busy timeout lets the eager slice and the dev server share it.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: Redis when REDIS_URL is set (rate limits and register lookups are shared by
# every process), process memory otherwise.
REDIS_URL: str = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "hmsportal.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="hmsportal"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Template fragments ({% cache %}: the header and footer) change only with a deploy, which
# restarts every process: each process keeps its own, with no round trip to Redis.
CACHES["template_fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "template-fragments",
}

# --- Celery: a broker URL means real workers; none means tasks run eagerly in-process.
CELERY_BROKER_URL: str = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER: bool = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    # Tasks run in the web process; an in-memory transport keeps kombu from looking for (and
    # warning about) a broker on localhost that the embedded default never has.
    CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND: str | None = env.str("CELERY_RESULT_BACKEND", default="") or None
# One queue unless told otherwise; tests run each worker on a queue of its own.
CELERY_TASK_DEFAULT_QUEUE: str = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# Every task is acknowledged when it has finished, not when it starts, and a task whose worker
# process died (the OOM killer on a print batch, a deploy's SIGKILL) goes back to the queue:
# a lost register check or card PDF is worse than one run twice, and every task is written
# to be run twice (STYLE.md §6). Globally rather than per task, so that a new task cannot
# forget it. One message per worker process at a time: a worker killed holds no others back.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A broker that is down must not hold a web request: the outbox (hmsportal/outbox.py) keeps
# the task and hands it over later, so a quick failure is all the web process needs.
CELERY_BROKER_CONNECTION_TIMEOUT: float = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
    "socket_connect_timeout": 2,
    # A broker that hangs, or vanishes without closing the connection, must not hold a publish
    # (and the web request behind it) for ever: a Redis publish takes milliseconds.
    "socket_timeout": 5,
    # Redis hands an unacknowledged message to another worker after this long, whether or not
    # the first is still at it: above the longest task's time limit (cards.recheck_cards_left_over,
    # 4 h 10 min, whose retries wait only as long as fits: cards.tasks.left_over_retry_delay),
    # so a long task is not run twice at once. A worker whose pool process dies
    # gives its task back at once (reject on worker lost); this only covers a whole worker lost.
    "visibility_timeout": 5 * 3600,
    # JSON, e.g. {"visibility_timeout": 5} in tests that kill a worker on purpose.
    **env.json("CELERY_BROKER_TRANSPORT_OPTIONS", default={}),
}
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_TIMEZONE = "Europe/Oslo"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- E-mail: EMAIL_URL (smtp://user:pass@host:587/?tls=True); console by default.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL: str = env.str("DEFAULT_FROM_EMAIL", default="HMS-kort <noreply@hmsportal.no>")
# Days the link that confirms a person's e-mail address works (hmsportal/contact.py).
EMAIL_CONFIRMATION_MAX_AGE_DAYS: int = env.int("EMAIL_CONFIRMATION_MAX_AGE_DAYS", default=3)

# --- Files. Photos, ID documents and card PDFs are personal data: they live in private
# storage (never under STATIC or a public MEDIA_URL), encrypted at rest.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": None},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        ),
    },
}
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
UPLOAD_MAX_BYTES: int = env.int("UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)

# Fernet keys (comma-separated, newest first, so keys can be rotated) for uploaded photos and
# ID documents. In DEBUG without a key one is derived from SECRET_KEY so the demo just runs.
_DEV_DOCUMENT_KEY = base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()
DOCUMENT_ENCRYPTION_KEYS: list[str] = [
    key for key in env.list("DOCUMENT_ENCRYPTION_KEY", default=[]) if key
] or [_required_secret("DOCUMENT_ENCRYPTION_KEY", _DEV_DOCUMENT_KEY)]

# --- Language and time: bokmål by default, English on request; Oslo time for display.
LANGUAGE_CODE = "nb"
LANGUAGES = [("nb", _("Norwegian bokmål")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English dates read "1 December 2026", not Django's American "Dec. 1, 2026"; bokmål ones
# "1. desember 2026" (hmsportal/formats/).
FORMAT_MODULE_PATH = ["hmsportal.formats"]
USE_I18N = True
TIME_ZONE = "Europe/Oslo"
USE_TZ = True

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Login. People log in with ID-porten (OpenID Connect, hmsportal/idporten/); staff with a
# password (and a second factor) at /admin/. The development login lists the demo registry's
# people; it exists only in the embedded/DEBUG setup.
DEV_LOGIN_ENABLED: bool = env.bool("DEV_LOGIN_ENABLED", default=DEBUG)
if DEV_LOGIN_ENABLED and not DEBUG:
    raise ImproperlyConfigured("DEV_LOGIN_ENABLED is only allowed with DEBUG on.")
# The endpoints and keys come from <issuer>/.well-known/openid-configuration.
IDPORTEN_ISSUER: str = env.str("IDPORTEN_ISSUER", default="").rstrip("/")
IDPORTEN_CLIENT_ID: str = env.str("IDPORTEN_CLIENT_ID", default="")
IDPORTEN_CLIENT_SECRET: str = env.str("IDPORTEN_CLIENT_SECRET", default="")
IDPORTEN_ACR_VALUES: str = env.str("IDPORTEN_ACR_VALUES", default="idporten-loa-substantial")
IDPORTEN_TIMEOUT_SECONDS: float = env.float("IDPORTEN_TIMEOUT_SECONDS", default=10.0)
if IDPORTEN_ISSUER and not (IDPORTEN_CLIENT_ID and IDPORTEN_CLIENT_SECRET):
    raise ImproperlyConfigured(
        "IDPORTEN_ISSUER is set: IDPORTEN_CLIENT_ID and IDPORTEN_CLIENT_SECRET must be set too."
    )
if IDPORTEN_ACR_VALUES not in ("idporten-loa-substantial", "idporten-loa-high"):
    raise ImproperlyConfigured(
        "IDPORTEN_ACR_VALUES must be idporten-loa-substantial or idporten-loa-high."
    )
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "hmsportal.idporten.backend.IdPortenBackend",
]
# mozilla-django-oidc runs the flow: scope openid only (ID-porten's userinfo holds nothing the
# portal needs), nonce and PKCE with S256, the ID token kept for the logout's id_token_hint
# (hmsportal.views.login.logout).
# Endpoints, keys and the token checks are hmsportal.idporten's, not these settings'.
OIDC_RP_SCOPES = "openid"
OIDC_USE_NONCE = True
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_STORE_ID_TOKEN = True
OIDC_AUTHENTICATION_CALLBACK_URL = "idporten_callback"
# A session ends after this much idle time and when the browser closes: ID-porten is single
# sign-on, and shared computers on building sites are common.
SESSION_IDLE_MINUTES: int = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- Back office. Staff (the card producer's people) log in through the admin login with a
# password and a TOTP code from an authenticator app (django-otp); the print queue, the
# registers page and the admin stay closed to a staff session without the second factor.
# Not read from the environment: production cannot be configured without it. In DEBUG (the
# demo) staff may use the development login without one.
STAFF_SECOND_FACTOR_REQUIRED: bool = not DEBUG
# The issuer shown next to the account in the authenticator app.
OTP_TOTP_ISSUER = "HMS-kortportalen"

# --- Registers. "embedded" reads the registry app's own tables; "http" speaks each
# register's API at the base URL given (see registry/clients/).
REGISTRY_BACKEND: str = env.str("REGISTRY_BACKEND", default="embedded")
ENHETSREGISTERET_URL: str = env.str(
    "ENHETSREGISTERET_URL", default="https://data.brreg.no/enhetsregisteret/api"
)
REGISTER_TIMEOUT_SECONDS: float = env.float("REGISTER_TIMEOUT_SECONDS", default=5.0)
# Inside a web request a person waits: a register call gives up after this long (and a call
# that timed out is not retried), so the page says which register is not answering instead.
REGISTER_WEB_TIMEOUT_SECONDS: float = env.float("REGISTER_WEB_TIMEOUT_SECONDS", default=2.0)
REGISTER_RETRIES: int = env.int("REGISTER_RETRIES", default=2)
REGISTER_RETRY_BACKOFF_SECONDS: float = env.float("REGISTER_RETRY_BACKOFF_SECONDS", default=0.5)
# Register answers are cached this long across runs (Redis in production); 0 turns it off.
REGISTER_CACHE_SECONDS: int = env.int("REGISTER_CACHE_SECONDS", default=300)
# Register requests one worker process keeps in flight at once (registry.clients.http
# ask_each): the re-check's throughput per process is about this many requests per register
# latency. Mind the registers' own per-client limits: this times the worker processes
# (workers × --concurrency) should stay below them, or the 429s past them slow everyone.
REGISTER_MAX_CONCURRENT_REQUESTS: int = env.int("REGISTER_MAX_CONCURRENT_REQUESTS", default=8)
# HTTP 429: a worker waits as long as Retry-After says (at most this long) this many times
# before it treats the register as unavailable (the cards keep their status).
REGISTER_THROTTLE_RETRIES: int = env.int("REGISTER_THROTTLE_RETRIES", default=4)
REGISTER_RETRY_AFTER_MAX_SECONDS: float = env.float(
    "REGISTER_RETRY_AFTER_MAX_SECONDS", default=30.0
)
# The nightly re-check's chunk: the live cards one task checks (cards.rechecks).
RECHECK_CHUNK_CARDS: int = env.int("RECHECK_CHUNK_CARDS", default=2000)
# Maskinporten: registers that need a token get one per scope through a JWT grant signed
# with the client's key (registry/clients/maskinporten.py). Off while MASKINPORTEN_TOKEN_URL
# is empty. A fixed *_TOKEN for a register wins over Maskinporten.
MASKINPORTEN_TOKEN_URL: str = env.str("MASKINPORTEN_TOKEN_URL", default="")
MASKINPORTEN_ISSUER: str = env.str("MASKINPORTEN_ISSUER", default="https://maskinporten.no/")
MASKINPORTEN_CLIENT_ID: str = env.str("MASKINPORTEN_CLIENT_ID", default="")
MASKINPORTEN_KEY_ID: str = env.str("MASKINPORTEN_KEY_ID", default="")
MASKINPORTEN_PRIVATE_KEY: str = env.str("MASKINPORTEN_PRIVATE_KEY", default="", multiline=True)
ENHETSREGISTERET_TOKEN: str = env.str("ENHETSREGISTERET_TOKEN", default="")
ENHETSREGISTERET_SCOPE: str = env.str("ENHETSREGISTERET_SCOPE", default="")  # unconfirmed
ENHETSREGISTERET_AUTHORISED_URL: str = env.str("ENHETSREGISTERET_AUTHORISED_URL", default="")
ARBEIDSFORHOLD_URL: str = env.str("ARBEIDSFORHOLD_URL", default="")
ARBEIDSFORHOLD_TOKEN: str = env.str("ARBEIDSFORHOLD_TOKEN", default="")
ARBEIDSFORHOLD_SCOPE: str = env.str("ARBEIDSFORHOLD_SCOPE", default="skatteetaten:arbeidsforhold")
AAREG_URL: str = env.str("AAREG_URL", default="")
AAREG_TOKEN: str = env.str("AAREG_TOKEN", default="")
AAREG_SCOPE: str = env.str("AAREG_SCOPE", default="nav:aareg/v1/arbeidsforhold")
FOLKEREGISTERET_URL: str = env.str("FOLKEREGISTERET_URL", default="")
FOLKEREGISTERET_TOKEN: str = env.str("FOLKEREGISTERET_TOKEN", default="")
# Per access package (folkeregister:deling/…): the package's own scope must be set.
FOLKEREGISTERET_SCOPE: str = env.str("FOLKEREGISTERET_SCOPE", default="")
# Folkeregisteret's event feed (registry/person_copy.py): read from this sequence number on the
# first time (unset: not read, every person is asked every time); a person's last answer is
# used while the feed was read within FEED_MAX_AGE_HOURS and shows no change for them, until the
# person's night of the sweep: everyone is asked again once every SWEEP_NIGHTS nights, a
# 1/SWEEP_NIGHTS share of them each night.
FOLKEREGISTERET_FEED_START_SEQ: int | None = env.int("FOLKEREGISTERET_FEED_START_SEQ", default=None)
FOLKEREGISTERET_FEED_MAX_PAGES: int = env.int("FOLKEREGISTERET_FEED_MAX_PAGES", default=50)
FOLKEREGISTERET_FEED_MAX_AGE_HOURS: float = env.float(
    "FOLKEREGISTERET_FEED_MAX_AGE_HOURS", default=3.0
)
FOLKEREGISTERET_SWEEP_NIGHTS: int = env.int("FOLKEREGISTERET_SWEEP_NIGHTS", default=7)
# Open data files, downloaded daily.
RENHOLDSREGISTERET_URL: str = env.str(
    "RENHOLDSREGISTERET_URL", default="https://www.arbeidstilsynet.no/opendata/renhold.xml"
)
BEMANNINGSFORETAKSREGISTERET_URL: str = env.str("BEMANNINGSFORETAKSREGISTERET_URL", default="")
OPEN_DATA_MAX_BYTES: int = env.int("OPEN_DATA_MAX_BYTES", default=200 * 1024 * 1024)
OPEN_DATA_TIMEOUT_SECONDS: float = env.float("OPEN_DATA_TIMEOUT_SECONDS", default=60.0)
# Enhetsregisteret's nightly bulk files (registry/unit_copy.py): the local copy answers
# organisation lookups while every file was loaded within COPY_MAX_AGE_HOURS (0: never) and
# the change feed was read within FEED_MAX_AGE_HOURS; otherwise the API is asked.
ENHETSREGISTERET_BULK_MAX_BYTES: int = env.int(
    "ENHETSREGISTERET_BULK_MAX_BYTES", default=2 * 1024 * 1024 * 1024
)
ENHETSREGISTERET_COPY_BATCH_SIZE: int = env.int("ENHETSREGISTERET_COPY_BATCH_SIZE", default=2000)
ENHETSREGISTERET_COPY_MAX_AGE_HOURS: float = env.float(
    "ENHETSREGISTERET_COPY_MAX_AGE_HOURS", default=36.0
)
ENHETSREGISTERET_FEED_MAX_AGE_HOURS: float = env.float(
    "ENHETSREGISTERET_FEED_MAX_AGE_HOURS", default=3.0
)
CHANGE_FEED_PAGE_SIZE: int = env.int("CHANGE_FEED_PAGE_SIZE", default=1000)
CHANGE_FEED_MAX_PAGES: int = env.int("CHANGE_FEED_MAX_PAGES", default=50)
# Organisations in Enhetsregisteret's change feed get their cards re-checked and their grants
# looked at at once (the registry app calls this hook so that it need not know the others).
REGISTRY_CHANGED_ORGANISATIONS_HANDLER: str = "orders.handlers.organisations_changed"
# Called with the ids of the cards a print batch shipped and its tracking reference, in the
# transaction that marks the batch shipped: how the orderers hear of it without the cards app
# knowing orders (the handler records the mail in the outbox).
CARDS_SHIPPED_HANDLER: str = "orders.handlers.orderers_shipped_queue"
# Called with the ids of the cards the nightly re-check revoked because Aa-registeret shows
# their employment ended, in the transaction that revokes them: how the open order lines that
# renew them are rejected without the cards app knowing orders.
CARDS_EMPLOYMENT_ENDED_HANDLER: str = "orders.handlers.employment_ended"

# --- Security. Production (DEBUG off) is HTTPS-only behind a TLS-terminating proxy.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT: bool = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE: bool = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE: bool = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS: int = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS: bool = not DEBUG
SECURE_HSTS_PRELOAD: bool = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
# The public status page has the card number in its URL (/status/<number>/): no Referer to
# other sites. Same-origin requests keep it, which Django's CSRF check over HTTPS relies on.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# No 'unsafe-inline' anywhere: scripts and styles are files under static/ (Django 5.2's admin
# has none inline, except a <style> on a change list whose ModelAdmin turns off both action
# bars, which none of ours does), htmx runs without eval and without its
# indicator <style> (the htmx-config meta on the polling pages). Nothing needs a nonce today;
# a page that does adds csp.constants.NONCE to its directive with csp.decorators.csp_update.
# img-src: Bootstrap's form controls draw with data: SVGs, and the order form previews the
# chosen photo from a blob: URL (static/js/photo-crop.js). form-action 'self': the ID-porten
# logout page adds the end_session_endpoint's origin to its own response only
# (hmsportal/views/login.py); the login itself is a link and redirects, not a form.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
SESSION_COOKIE_HTTPONLY = True
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "client_errors_without_traceback": {
            "()": "hmsportal.log_filters.ClientErrorsWithoutTraceback"
        },
        "identity_numbers_masked": {"()": "hmsportal.log_filters.IdentityNumbersMasked"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["client_errors_without_traceback", "identity_numbers_masked"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's default configuration gives "django" a console handler of its own (in
        # DEBUG) and lets it propagate to the root's as well: every line, and every
        # traceback, came out twice. Configured here without handlers, its records reach the
        # root's handler only.
        "django": {"level": "INFO"},
        # WeasyPrint and fontTools narrate every render step at INFO.
        "weasyprint": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # At DEBUG urllib3 logs every URL it fetches, and register URLs hold identity numbers
        # (Folkeregisteret's /personer/<id>): never below INFO, whatever LOG_LEVEL says.
        "urllib3": {"level": "INFO"},
    },
}

# --- Ordering. An order line that fails only because Aa-registeret does not show the new
# employment yet is re-checked daily for this many days before it is rejected.
ORDER_AWAIT_REGISTRATION_DAYS: int = env.int("ORDER_AWAIT_REGISTRATION_DAYS", default=14)
# Days the link an employee gets to upload their own photo and ID document works
# (orders/employee_upload.py); sending it again makes a new one.
EMPLOYEE_UPLOAD_LINK_DAYS: int = env.int("EMPLOYEE_UPLOAD_LINK_DAYS", default=7)
# A line that waits (for Aa-registeret, or for the employee's files) longer than this reminds
# the person who ordered it, once.
ORDER_REMINDER_AFTER_DAYS: int = env.int("ORDER_REMINDER_AFTER_DAYS", default=3)
# A card counts as expiring this many days before its valid-until date (issue 10): the card
# register's "expiring" filter, the renewals it offers and the administrators' daily digest
# all read this one number, so a reminder never names a card the register will not renew.
# REMINDER_EXPIRY_DAYS, the digest's old setting, is still read when this one is not set.
CARD_EXPIRING_WITHIN_DAYS: int = env.int(
    "CARD_EXPIRING_WITHIN_DAYS", default=env.int("REMINDER_EXPIRY_DAYS", default=60)
)
if CARD_EXPIRING_WITHIN_DAYS < 1:
    raise ImproperlyConfigured("CARD_EXPIRING_WITHIN_DAYS must be at least 1.")
# A renewal reuses the card's stored photo when the card was issued at most this many days
# ago (the photo is at least as old as the card); otherwise the employee sends a new one.
RENEWAL_PHOTO_MAX_AGE_DAYS: int = env.int("RENEWAL_PHOTO_MAX_AGE_DAYS", default=5 * 365)
if RENEWAL_PHOTO_MAX_AGE_DAYS < 0:
    raise ImproperlyConfigured("RENEWAL_PHOTO_MAX_AGE_DAYS cannot be negative.")
# Days the organisation's key-role holders have to confirm a flagged delegation (one whose
# grantor no longer holds a key role) before the nightly review ends it.
DELEGATION_CONFIRM_DAYS: int = env.int("DELEGATION_CONFIRM_DAYS", default=14)
if DELEGATION_CONFIRM_DAYS < 1:
    raise ImproperlyConfigured("DELEGATION_CONFIRM_DAYS must be at least 1.")
# The public page an order confirmation's QR code leads to answers for this many days after
# the confirmation was made; an older one says only that it has expired.
ORDER_CONFIRMATION_VALID_DAYS: int = env.int("ORDER_CONFIRMATION_VALID_DAYS", default=90)
# A shipped card counts as delivered (state active) this many days after shipping.
CARD_DELIVERY_DAYS: int = env.int("CARD_DELIVERY_DAYS", default=5)

# --- Invoicing. Orders are paid by invoice to the organisation: due this many days after
# the invoice date, to the producer's bank account (11 digits, MOD11-checked at start-up;
# a demo account in DEBUG only, so no real invoice can name a made-up account).
INVOICE_DUE_DAYS: int = env.int("INVOICE_DUE_DAYS", default=14)
if INVOICE_DUE_DAYS < 0:
    raise ImproperlyConfigured("INVOICE_DUE_DAYS cannot be negative.")
_DEMO_ACCOUNT_NUMBER = "15030000002"
INVOICE_ACCOUNT_NUMBER: str = kontonr.compact(env.str("INVOICE_ACCOUNT_NUMBER", default=""))
if not INVOICE_ACCOUNT_NUMBER:
    if not DEBUG:
        raise ImproperlyConfigured(
            "INVOICE_ACCOUNT_NUMBER must be set when DEBUG is off (see README.md)."
        )
    INVOICE_ACCOUNT_NUMBER = _DEMO_ACCOUNT_NUMBER
elif not kontonr.is_valid(INVOICE_ACCOUNT_NUMBER) or len(INVOICE_ACCOUNT_NUMBER) != 11:
    raise ImproperlyConfigured(
        "INVOICE_ACCOUNT_NUMBER is not a valid Norwegian bank account number "
        "(11 digits with a MOD11 check digit)."
    )

# --- Public status check. Anonymous lookups per client address a minute (page and API
# share the budget; API keys have their own limits), and how many proxies in front of the
# portal append to X-Forwarded-For (0: use the connection's address).
STATUS_RATE_LIMIT_PER_MINUTE: int = env.int("STATUS_RATE_LIMIT_PER_MINUTE", default=30)
TRUSTED_PROXY_COUNT: int = env.int("TRUSTED_PROXY_COUNT", default=0)
# Organisation numbers a logged-in user may look up in Enhetsregisteret a minute (typing one
# they cannot act for yet asks the register for its roles).
ORGANISATION_LOOKUP_RATE_LIMIT_PER_MINUTE: int = env.int(
    "ORGANISATION_LOOKUP_RATE_LIMIT_PER_MINUTE", default=10
)
