"""Configuration read from the environment, with a testing variant."""

import os
import secrets
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = BASE_DIR / "instance"


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str | None:
    """SECRET_KEY from the environment, else read from SECRET_KEY_FILE (made with a fresh
    random key, readable by its owner only, when it does not exist yet), else — only for
    ``flask --debug run`` — a key kept in instance/secret_key; else None, and
    ``create_app`` refuses to start (``check_secret_key``).

    Production must name its key: a key made up by each host would sign sessions the other
    hosts refuse, and a new host (or a wiped instance/) would end every session.
    """
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    named = os.environ.get("SECRET_KEY_FILE")
    if named:
        return _key_file(Path(named))
    if _bool("FLASK_DEBUG"):
        return _key_file(INSTANCE_DIR / "secret_key")
    return None


def _key_file(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


KEY_REQUIRED = (
    "SECRET_KEY is not set. It signs sessions and CSRF tokens, so production must name it: "
    "export SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))'), the "
    "same on every host, or SECRET_KEY_FILE=/path/to/a/file holding it (made if missing). "
    "Only `flask --debug run` and `make run` fall back to a key kept in instance/secret_key."
)


def check_secret_key(config) -> None:
    """Refuse to start without a secret key, unless debugging or testing."""
    if config.get("SECRET_KEY") or config.get("DEBUG") or config.get("TESTING"):
        return
    raise RuntimeError(KEY_REQUIRED)


class Config:
    """Settings for running the app; every value can come from the environment."""

    def __init__(self) -> None:
        self.SECRET_KEY = _secret_key()
        self.SQLALCHEMY_DATABASE_URI = os.environ.get(
            "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'judging.sqlite'}"
        )
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE") or _bool("HTTPS")
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.PREFERRED_URL_SCHEME = "https" if self.SESSION_COOKIE_SECURE else "http"
        self.WTF_CSRF_TIME_LIMIT = None  # a judge may keep a form open through a long roadshow
        self.BABEL_DEFAULT_LOCALE = "zh_CN"
        self.BABEL_DEFAULT_TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
        self.LANGUAGES = ("zh_CN", "en")
        self.RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
        self.RATELIMIT_HEADERS_ENABLED = True
        # Rendered public pages shared by every worker and host (one render per version
        # across them); unset, each process renders a version once for itself.
        self.CACHE_REDIS_URL = os.environ.get("CACHE_REDIS_URL", "")
        # A public page whose last render took this many seconds renders its next version
        # in the background, the previous one answering meanwhile (leaderboard/cache.py).
        self.RENDER_SLOW_SECONDS = 0.25
        # Workbook downloads kept per version (judging.exports.downloads): where, how many
        # builds at once on the host, how many threads of a process may wait for or build
        # one at once, how long a download waits for a build slot before it is answered 503.
        self.DOWNLOAD_CACHE_DIR = os.environ.get("DOWNLOAD_CACHE_DIR", "")
        self.DOWNLOAD_BUILDS = int(os.environ.get("DOWNLOAD_BUILDS", "1"))
        self.DOWNLOAD_THREADS = int(os.environ.get("DOWNLOAD_THREADS", "2"))
        self.DOWNLOAD_WAIT = float(os.environ.get("DOWNLOAD_WAIT", "30"))
        # Failed sign-ins allowed per address (high enough for a venue's judges behind one
        # NAT) and per account (a lockout of one account leaves the others alone).
        self.SIGNIN_RATE_LIMIT = os.environ.get("SIGNIN_RATE_LIMIT", "100 per minute")
        self.SIGNIN_ACCOUNT_LIMIT = os.environ.get("SIGNIN_ACCOUNT_LIMIT", "5 per 15 minutes")
        # A signed-in session ends this long after its sign-in, or after this long unused.
        self.SESSION_ABSOLUTE_HOURS = float(os.environ.get("SESSION_ABSOLUTE_HOURS", "12"))
        self.SESSION_IDLE_MINUTES = float(os.environ.get("SESSION_IDLE_MINUTES", "120"))
        # Behind a reverse proxy: how many proxies set X-Forwarded-For and -Proto in front of
        # the app (0: none; the client's address is the connection's).
        self.PROXY_FIX_X_FOR = int(os.environ.get("PROXY_FIX_X_FOR", "0"))
        self.SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS", "15000"))
        self.SEED_DIR = os.environ.get("SEED_DIR", str(BASE_DIR / "seed"))
        self.MAX_CONTENT_LENGTH = 10 * 1024 * 1024
        # Bounds on reading an uploaded workbook (judging/imports/reader.py): past any of
        # them the file is refused with a message, having cost little time and memory.
        self.EXCEL_MAX_SECONDS = float(os.environ.get("EXCEL_MAX_SECONDS", "20"))
        self.EXCEL_MAX_ROWS = int(os.environ.get("EXCEL_MAX_ROWS", "100000"))
        self.EXCEL_MAX_STRINGS = int(os.environ.get("EXCEL_MAX_STRINGS", "200000"))
        self.EXCEL_MAX_STRING_CHARS = int(os.environ.get("EXCEL_MAX_STRING_CHARS", "20000000"))
        self.EXCEL_MAX_PARTS = int(os.environ.get("EXCEL_MAX_PARTS", "1000"))
        self.EXCEL_MAX_UNCOMPRESSED_MB = int(os.environ.get("EXCEL_MAX_UNCOMPRESSED_MB", "256"))
        # Where judges reach the site, for sign-in links on cards or sent by chat. Unset:
        # the address the organizer is using (pages) or http://127.0.0.1:5000 (commands).
        self.PUBLIC_URL = os.environ.get("PUBLIC_URL", "").rstrip("/")
        self.LOGIN_LINK_HOURS = int(os.environ.get("LOGIN_LINK_HOURS", "72"))


class TestingConfig(Config):
    """Settings for the test suite: a throwaway database and no real secrets."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        super().__init__()
        self.TESTING = True
        self.SECRET_KEY = "test-secret-key"  # noqa: S105 - fixed so tests are repeatable
        self.SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
        self.RATELIMIT_STORAGE_URI = "memory://"
        self.PROXY_FIX_X_FOR = 0
        self.CACHE_REDIS_URL = ""
        # Every render in the request: a test reads its own change at once (the background
        # renders have tests of their own).
        self.RENDER_SLOW_SECONDS = None
        # One directory per test process (the versions of a fresh database repeat).
        self.DOWNLOAD_CACHE_DIR = os.path.join(
            tempfile.gettempdir(), f"judging-test-downloads-{os.getpid()}-{id(self)}"
        )
