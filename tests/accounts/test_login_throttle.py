"""Failed logins are limited per identifier and per client address (issue 14, finding 9).

Before, a client could try passwords as fast as the server answered: the
login endpoints and HTTP basic authentication had no limit at all.
"""

from __future__ import annotations

import base64

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_counts(settings):
    """Failures live in the cache; keep this module's away from every other test."""
    settings.LOGIN_FAILURE_RATE = "3/5m"
    cache.clear()
    yield
    cache.clear()


def login(identifier: str, password: str, address: str = "10.0.0.1", path: str = "/saml-auth/api-login/"):
    return APIClient().post(path, {"email": identifier, "password": password}, REMOTE_ADDR=address)


def basic(identifier: str, password: str, address: str = "10.0.0.1"):
    token = base64.b64encode(f"{identifier}:{password}".encode()).decode()
    return APIClient().get("/api/collection", HTTP_AUTHORIZATION=f"Basic {token}", REMOTE_ADDR=address)


def test_failures_per_identifier_block_even_the_right_password(contributor):
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):  # spread over addresses: still one account
        assert login("contributor", "guess", address).status_code == 400
    blocked = login("contributor", "pw", "10.0.0.4")
    assert blocked.status_code == 429
    assert blocked.json()["detail"].startswith("Too many failed login attempts")
    assert int(blocked["Retry-After"]) > 0
    assert login("Contributor@Example.com", "pw", "10.0.0.5").status_code == 200  # another identifier


def test_failures_per_address_block_other_accounts(contributor):
    for name in ("alice", "bob", "carol"):
        assert login(name, "guess", "10.9.9.9").status_code == 400
    assert login("contributor", "pw", "10.9.9.9").status_code == 429
    assert login("contributor", "pw", "10.0.0.1", path="/rest-auth/login/").status_code == 200


def test_successful_logins_are_not_counted(contributor):
    for _ in range(5):
        assert login("contributor", "pw").status_code == 200


def test_basic_auth_failures_are_throttled(contributor):
    for _ in range(3):
        assert basic("contributor", "guess").status_code in (401, 403)
    response = basic("contributor", "pw", "10.0.0.7")
    assert response.status_code == 429 and "Too many failed login attempts" in response.json()["detail"]
    assert login("contributor", "pw", "10.0.0.8").status_code == 429  # one count for both ways in


def test_the_window_passes(contributor, monkeypatch):
    from resolwe_prefect.accounts import throttling

    now = [1000.0]
    monkeypatch.setattr(throttling.LoginFailureThrottle, "timer", lambda self: now[0])
    for _ in range(3):
        login("contributor", "guess")
    assert login("contributor", "pw").status_code == 429
    now[0] += 301
    assert login("contributor", "pw").status_code == 200


@pytest.mark.parametrize(
    "body",
    ['{"email": "\\ud800", "password": "x"}', '{"email": {"a": 1}, "password": "x"}', "[" * 5000 + "]" * 5000,
     '{"email": "a\\u0000", "password": "x"}'],
)  # fmt: skip
def test_hostile_login_bodies_are_failed_logins_not_500(body):
    client = APIClient()
    client.raise_request_exception = False
    response = client.post("/rest-auth/login/", body, content_type="application/json", REMOTE_ADDR="10.1.1.1")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "rate, expected", [("10/5m", (10, 300)), ("10/m", (10, 60)), ("3/30s", (3, 30)), ("100/day", (100, 86400))]
)
def test_rates(rate, expected, settings):
    from resolwe_prefect.accounts.throttling import LoginFailureThrottle

    settings.LOGIN_FAILURE_RATE = rate
    throttle = LoginFailureThrottle("identifier", "x")
    assert (throttle.num_requests, throttle.duration) == expected
