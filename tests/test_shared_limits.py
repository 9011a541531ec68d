"""Rate limits hold across processes: two gunicorn processes on one database and one Redis
count the same failed sign-ins, so a limit is reached at its documented number, not at twice
it; and an X-Forwarded-For that anyone can send changes nothing.

Needs Redis (OKUL_TEST_REDIS_URL, default redis://127.0.0.1:6379/0): skipped without it,
except under CI=true, where a missing Redis fails the run.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("OKUL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

# The sign-in limits of portal/auth/views/sign_in.py, counted in failed tries per 15 minutes:
# per account from browsers that are not its known devices, and per source address.
ACCOUNT_LIMIT = 10
SOURCE_LIMIT = 20


@pytest.fixture(scope="module")
def redis_url():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        message = f"Redis at {REDIS_URL} does not answer ({error})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI=true: the shared-limit tests must run", pytrace=False)
        pytest.skip(message)
    return REDIS_URL


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(process: subprocess.Popen, base_url: str) -> None:
    deadline = time.monotonic() + 120  # a loaded CI machine imports slowly
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server at {base_url} exited: {process.stderr.read()}")
        try:
            with urllib.request.urlopen(base_url + "/auth/login", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server at {base_url} did not start")


@pytest.fixture
def two_servers(app, database_url, redis_url):
    """Two gunicorn processes of the portal sharing the test database and a Redis prefix of
    their own; yields their base URLs."""
    import redis

    prefix = f"okul-test-{uuid.uuid4().hex}"
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": prefix,
        # The limits are the subject here; CSRF has its own tests.
        "WTF_CSRF_ENABLED": False,
    }
    env = {**os.environ, "PORTAL_ENV": "test"}
    processes, urls = [], []
    try:
        for _ in range(2):
            port = _free_port()
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "gunicorn",
                        "--workers=1",
                        f"--bind=127.0.0.1:{port}",
                        f"portal:create_app({settings!r})",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        for process, url in zip(processes, urls, strict=True):
            _wait_until_serving(process, url)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.stderr.close()
        store = redis.Redis.from_url(redis_url)
        for key in store.scan_iter(f"*{prefix}*"):
            store.delete(key)


def failed_sign_in(base_url: str, email: str, forwarded_for: str | None = None) -> int:
    """POST a wrong password; the status code of the answer."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    body = urllib.parse.urlencode({"email": email, "password": "not-the-password"}).encode()
    request = urllib.request.Request(base_url + "/auth/login", body, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_two_processes_share_the_limit_of_one_account(two_servers, parent):
    statuses = [
        failed_sign_in(two_servers[attempt % 2], parent.email)
        for attempt in range(ACCOUNT_LIMIT + 2)
    ]

    # Refused at the documented number, by whichever process the next try reaches.
    assert statuses == [422] * ACCOUNT_LIMIT + [429, 429]


def test_a_forged_x_forwarded_for_does_not_make_a_new_source(two_servers):
    # Each try names another account (so no account limit is near) and claims to come from
    # another address; with no trusted proxy the header is not believed.
    statuses = [
        failed_sign_in(
            two_servers[attempt % 2],
            f"nobody{attempt}@example.com",
            forwarded_for=f"203.0.113.{attempt + 1}",
        )
        for attempt in range(SOURCE_LIMIT + 1)
    ]

    assert statuses == [422] * SOURCE_LIMIT + [429]
