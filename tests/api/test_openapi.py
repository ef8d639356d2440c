"""The OpenAPI schema, checked against the running API by schemathesis.

Every operation drf-spectacular publishes is called with generated requests,
as a logged-in non-superuser (HTTP basic auth), against the WSGI application
and the real PostgreSQL test database. A 5xx answer, or an answer that the
schema does not describe, fails the test.
"""

from __future__ import annotations

import base64

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from resolwe_prefect.entities.models import Collection, Entity
from resolwe_prefect.permissions import services as permission_services
from resolwe_prefect.processes.models import Process

USERNAME, PASSWORD = "schema-user", "schema-password"


@pytest.fixture
def api_schema(transactional_db, django_user_model):
    """The published schema, loaded from the app itself, with a few real objects to find.

    Transactional, so that each request commits or fails on its own as in production.
    """
    user = django_user_model.objects.create_user(USERNAME, "schema@example.com", PASSWORD)
    process = Process.objects.create(
        slug="schema-process", name="Schema", version=1, type="data:schema:", contributor=user,
        input_schema=[{"name": "n", "type": "basic:integer", "required": False}], run={"language": "bash", "program": "true"},
    )  # fmt: skip
    collection = Collection.objects.create(name="Schema collection", slug="schema-collection", contributor=user)
    entity = Entity.objects.create(name="Schema entity", slug="schema-entity", contributor=user, collection=collection)
    for obj in (process, collection, entity):
        permission_services.on_created(obj)
    # Django's test client keeps the test transaction's connection open across requests; do the same.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema", get_wsgi_application())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


AUTH = {"Authorization": "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()}
EXAMPLES_PER_OPERATION = 6
#: "Zero 5xx and zero responses that break the schema".
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
#: Anonymous callers act as the public user, so an unauthenticated 200 is by design; and a
#: schema-valid request may still be refused for what it refers to (an unknown process slug).
EXCLUDED = [ignored_auth, positive_data_acceptance]


def _check_operation(operation) -> list[str]:
    """Run generated requests for one operation; return what went wrong, if anything."""
    failures: list[str] = []

    @given(operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        try:
            case.call_and_validate(headers=AUTH, checks=CHECKS, excluded_checks=EXCLUDED)
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - collected per operation
            failures.append(f"{operation.label}: {type(error).__name__}: {str(error)[:3000]}")
            raise

    try:
        run()
    except (Exception, BaseExceptionGroup):  # noqa: BLE001 - hypothesis re-raises the (shrunk) failure; it is already recorded
        pass
    return failures[-1:]


def test_every_operation_answers_within_its_schema(api_schema):
    """No 5xx, and every status code and body is one the schema declares, for every operation.

    schemathesis's own pytest plugin does not run under pytest 9, so the
    operations are walked here, each with its own hypothesis run.
    """
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 50, "the schema lost operations"
    failures = [failure for operation in operations for failure in _check_operation(operation)]
    assert not failures, "\n\n".join(failures)
