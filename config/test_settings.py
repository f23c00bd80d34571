"""Settings for the test suite: the real settings with test-only secrets and fast hashing.

DATABASE_URL and REDIS_URL are honoured as in production, so the same suite runs on
SQLite with local files and on PostgreSQL with Redis.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-any-real-deployment-0123456789")
# A fixed Fernet key so encrypted fixtures are reproducible; never used outside tests.
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "dGVzdC1vbmx5LWZlcm5ldC1rZXktMDEyMzQ1Njc4OTA=")
os.environ.setdefault("SECURE_COOKIES", "false")
# Broker files, results and cache of this run, apart from a developer's `make run`; a
# worker started by a test inherits the variable and so shares them.
os.environ.setdefault(
    "LOCAL_DIR",
    os.path.join(os.path.dirname(os.path.dirname(__file__)), ".local", f"test-{os.getpid()}"),
)

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise.")]  # noqa: F405
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Threads of the live server must not keep connections that block dropping the test database.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Parallel test workers share one Redis: keep their cache keys apart (they also get
# separate databases, so their ids collide).
# (The process id, not PYTEST_XDIST_WORKER: settings load before xdist names the worker.)
_WORKER = f"p{os.getpid()}"
CACHES["default"]["KEY_PREFIX"] = _WORKER  # noqa: F405
if CACHES["default"]["BACKEND"].endswith("FileBasedCache"):  # noqa: F405
    CACHES["default"]["LOCATION"] += f"-{_WORKER}"  # noqa: F405
