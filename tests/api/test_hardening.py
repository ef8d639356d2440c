"""Oversized bodies and foreign ``Host`` headers answer JSON, never Django's HTML pages (issue 14, finding 9)."""

from __future__ import annotations

import importlib

import pytest
from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.test import Client

from resolwe_prefect.api.handlers import bad_request

pytestmark = pytest.mark.django_db

LIMIT = 1000


@pytest.fixture
def small_bodies(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_oversized_api_bodies_are_413_json(user_client, small_bodies, content_type):
    body = '{"name": "' + "x" * LIMIT + '"}' if content_type == "application/json" else "name=" + "x" * LIMIT
    response = user_client.post("/api/collection", body, content_type=content_type)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("Request body is too large")


def test_oversized_multipart_fields_are_413_json(user_client, small_bodies):
    response = user_client.post("/api/collection", {"name": "x" * (2 * LIMIT)}, format="multipart")
    assert response.status_code == 413 and response["Content-Type"] == "application/json"


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_oversized_login_bodies_are_413_json(small_bodies, content_type):
    body = '{"email": "' + "x" * LIMIT + '"}' if content_type == "application/json" else "email=" + "x" * LIMIT
    response = Client().post("/rest-auth/login/", body, content_type=content_type)
    assert response.status_code == 413 and response.json() == {"detail": "Request body is too large."}


def test_bodies_within_the_limit_work(user_client, small_bodies):
    assert user_client.post("/api/collection", {"name": "x" * 50}, format="json").status_code == 201


def test_foreign_host_headers_are_refused(user_client):
    """Any ``Host`` used to be accepted and echoed into links (``next`` of a page)."""
    response = user_client.get("/api/collection?limit=1", HTTP_HOST="evil.example.org")
    assert response.status_code == 400
    assert "evil.example.org" not in response.content.decode()
    assert user_client.get("/api/collection?limit=1", HTTP_HOST="localhost:8000").status_code == 200


def test_foreign_host_answer_is_json(user_client):
    response = user_client.get("/api/collection", HTTP_HOST="evil.example.org")
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid Host header."}


def test_bad_request_handler_answers_json():
    assert bad_request(None, DisallowedHost("x")).status_code == 400
    too_big = bad_request(None, RequestDataTooBig("x"))
    assert too_big.status_code == 413 and too_big["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "environ, expected",
    [
        ({}, ["localhost", "127.0.0.1", "[::1]"]),
        ({"RESOLWE_PREFECT_API_HOST": "127.0.0.1"}, ["localhost", "127.0.0.1", "[::1]", "127.0.0.1"]),
        ({"RESOLWE_PREFECT_API_HOST": "10.0.0.5"}, ["localhost", "127.0.0.1", "[::1]", "10.0.0.5"]),
        ({"RESOLWE_PREFECT_API_HOST": "fd00::5"}, ["localhost", "127.0.0.1", "[::1]", "[fd00::5]"]),
        ({"RESOLWE_PREFECT_API_HOST": "0.0.0.0"}, ["localhost", "127.0.0.1", "[::1]"]),
        ({"RESOLWE_PREFECT_API_HOST": "::"}, ["localhost", "127.0.0.1", "[::1]"]),
        ({"DJANGO_ALLOWED_HOSTS": "api.example.org, .example.org", "RESOLWE_PREFECT_API_HOST": "10.0.0.5"},
         ["api.example.org", ".example.org"]),
    ],
)  # fmt: skip
def test_allowed_hosts_default_to_loopback_and_the_bound_host(monkeypatch, environ, expected):
    monkeypatch.delenv("DJANGO_ALLOWED_HOSTS", raising=False)
    monkeypatch.delenv("RESOLWE_PREFECT_API_HOST", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    settings_module = importlib.import_module("django_project.settings")
    assert settings_module._allowed_hosts() == expected


@pytest.mark.parametrize("path", ["/api/annotation_value", "/api/data", "/api/collection", "/api/entity"])
def test_options_of_list_routes_is_not_a_500(admin_client, path):
    """``OPTIONS`` describes a list route's bulk ``PUT`` without looking for an object it has not got."""
    response = admin_client.options(path)
    assert response.status_code == 200, response.content[:500]
