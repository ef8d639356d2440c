"""Secrets: encryption at rest, ownership, Resolwe's permission rules, the files and the command."""

from __future__ import annotations

import io
import stat
import uuid
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from resolwe_prefect.secrets import crypto
from resolwe_prefect.secrets.models import Secret
from resolwe_prefect.secrets.services import (
    NOT_ALLOWED_MESSAGE,
    SecretAccessError,
    create_secret,
    remove_secret_files,
    secret_exists,
    secret_handles,
    secrets_for_run,
    write_secret_files,
)

VALUE = "hello secret world"

# The two processes of the conformance set (Resolwe's resolwe/flow/tests/processes/secrets.yml).
TOKEN_SCHEMA = [{"name": "token", "label": "Secret token", "type": "basic:secret:"}]
ECHO_REQUIREMENTS = {"expression-engine": "jinja", "resources": {"secrets": True}}


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create_superuser("admin", "admin@example.com", "pw")


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.com", "pw")


def run_secrets(
    handle_input: dict, contributor, *, slug="test-secrets-echo", requirements=ECHO_REQUIREMENTS, schema=TOKEN_SCHEMA
) -> dict[str, str]:
    return secrets_for_run(
        process_slug=slug,
        process_requirements=requirements,
        input_schema=schema,
        input_values=handle_input,
        contributor=contributor,
    )


# --- storage -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_value_is_encrypted_at_rest_and_round_trips(admin):
    handle = create_secret(VALUE, admin, metadata={"purpose": "test"})

    assert str(uuid.UUID(handle)) == handle
    # The column as stored: values_list() bypasses the model's decrypting ``value`` property.
    stored = Secret.objects.filter(pk=handle).values_list("encrypted_value", flat=True).get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM secrets_secret WHERE encrypted_value LIKE %s", [f"%{VALUE}%"])
        assert cursor.fetchone()[0] == 0
    assert stored != VALUE
    assert VALUE not in stored
    assert crypto.decrypt(stored) == VALUE
    assert Secret.objects.get_secret(handle, admin) == VALUE
    secret = Secret.objects.get(pk=handle)
    assert secret.metadata == {"purpose": "test"}
    assert VALUE not in str(secret)


@pytest.mark.django_db
def test_same_value_encrypts_differently_each_time(admin):
    first, second = create_secret(VALUE, admin), create_secret(VALUE, admin)
    tokens = set(Secret.objects.filter(pk__in=[first, second]).values_list("encrypted_value", flat=True))
    assert len(tokens) == 2


def test_key_is_derived_from_secret_key(settings):
    settings.SECRET_KEY = "one key"
    token = crypto.encrypt(VALUE)
    assert crypto.decrypt(token) == VALUE
    assert crypto.derive_key("one key") != crypto.derive_key("another key")

    settings.SECRET_KEY = "another key"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)

    # Rotation without loss: the old key kept as a fallback still decrypts, and reencrypt moves the value.
    settings.SECRET_KEY_FALLBACKS = ["one key"]
    assert crypto.decrypt(token) == VALUE
    moved = crypto.reencrypt(token)
    settings.SECRET_KEY_FALLBACKS = []
    assert crypto.decrypt(moved) == VALUE


@pytest.mark.django_db
def test_rotated_secret_key_fails_the_run_with_a_clear_error(admin, settings):
    handle = create_secret(VALUE, admin)
    settings.SECRET_KEY = "a brand new key"
    assert secret_exists(handle, admin)  # the row still loads; only decryption fails
    with pytest.raises(SecretAccessError, match="SECRET_KEY"):
        run_secrets({"token": {"handle": handle}}, admin)


@pytest.mark.django_db
def test_create_secret_rejects_bad_arguments(admin):
    with pytest.raises(TypeError):
        create_secret(123, admin)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        create_secret(VALUE, admin, expires=timezone.now().replace(tzinfo=None))


# --- ownership and expiry ----------------------------------------------------------------------


@pytest.mark.django_db
def test_only_the_owner_can_use_a_secret(admin, user):
    handle = create_secret(VALUE, admin)

    assert secret_exists(handle, admin)
    assert not secret_exists(handle, user)
    assert not secret_exists(str(uuid.uuid4()), admin)
    assert not secret_exists("not-a-uuid", admin)
    with pytest.raises(Secret.DoesNotExist):
        Secret.objects.get_secret(handle, user)
    with pytest.raises(Secret.DoesNotExist):
        Secret.objects.get_secret(handle, None)

    assert run_secrets({"token": {"handle": handle}}, admin) == {handle: VALUE}
    with pytest.raises(SecretAccessError) as raised:
        run_secrets({"token": {"handle": handle}}, user)
    assert raised.value.reason == NOT_ALLOWED_MESSAGE
    assert str(raised.value) == f"Permission denied for process: {NOT_ALLOWED_MESSAGE}"
    assert raised.value.handle == handle


@pytest.mark.django_db
@pytest.mark.parametrize("handle", [str(uuid.uuid4()), "not-a-uuid"])
def test_unknown_handle_is_refused(admin, handle):
    with pytest.raises(SecretAccessError) as raised:
        run_secrets({"token": {"handle": handle}}, admin)
    assert raised.value.reason == NOT_ALLOWED_MESSAGE


@pytest.mark.django_db
def test_expired_secret_cannot_be_used(admin):
    past = create_secret(VALUE, admin, expires=timezone.now() - timedelta(seconds=1))
    future = create_secret("still good", admin, expires=timezone.now() + timedelta(days=1))

    assert not secret_exists(past, admin)
    assert secret_exists(future, admin)
    with pytest.raises(SecretAccessError):
        run_secrets({"token": {"handle": past}}, admin)
    assert run_secrets({"token": {"handle": future}}, admin) == {future: "still good"}
    assert Secret.objects.purge_expired() == 1
    assert not Secret.objects.filter(pk=past).exists()


# --- the process permission --------------------------------------------------------------------


@pytest.mark.django_db
def test_process_without_the_requirement_gets_resolwes_message(admin):
    handle = create_secret(VALUE, admin)
    for requirements in ({}, None, {"resources": {"secrets": False}}, {"resources": {"network": True}}):
        with pytest.raises(SecretAccessError) as raised:
            run_secrets(
                {"token": {"handle": handle}},
                admin,
                slug="test-secrets-permission-denied",
                requirements=requirements,
            )
        assert raised.value.reason == (
            "Process 'test-secrets-permission-denied' has secret inputs, but no permission to see secrets"
        )
        # The element Resolwe's test finds in data.process_error.
        assert str(raised.value) == (
            "Permission denied for process: Process 'test-secrets-permission-denied' has secret "
            "inputs, but no permission to see secrets"
        )


@pytest.mark.django_db
def test_no_secret_inputs_need_no_permission(admin):
    schema = [{"name": "n", "type": "basic:integer:"}, *TOKEN_SCHEMA]
    assert run_secrets({"n": 1}, admin, requirements={}, schema=schema) == {}
    assert run_secrets({"n": 1, "token": None}, admin, requirements={}, schema=schema) == {}


# --- walking the inputs ------------------------------------------------------------------------


@pytest.mark.django_db
def test_secrets_inside_groups_and_lists_are_found(admin, user):
    plain = create_secret("plain", admin)
    nested = create_secret("nested", admin)
    listed = [create_secret("first", admin), create_secret("second", admin)]
    schema = [
        {"name": "token", "type": "basic:secret"},  # raw YAML spelling, without the trailing colon
        {"name": "text", "type": "basic:string:"},
        {
            "name": "auth",
            "group": [
                {"name": "inner", "group": [{"name": "key", "type": "basic:secret:"}]},
                {"name": "keys", "type": "list:basic:secret:"},
            ],
        },
    ]
    values = {
        "token": {"handle": plain},
        "text": "not a secret",
        "auth": {"inner": {"key": {"handle": nested}}, "keys": [{"handle": h} for h in listed]},
    }

    assert secret_handles(schema, values) == [plain, nested, *listed]
    assert run_secrets(values, admin, schema=schema) == {
        plain: "plain",
        nested: "nested",
        listed[0]: "first",
        listed[1]: "second",
    }

    # A secret deep in a group still needs the permission ...
    only_nested = {"auth": {"inner": {"key": {"handle": nested}}}}
    with pytest.raises(SecretAccessError, match="has secret inputs, but no permission"):
        run_secrets(only_nested, admin, slug="p", requirements={}, schema=schema)
    # ... and must belong to the contributor.
    foreign = create_secret("foreign", user)
    values["auth"]["keys"].append({"handle": foreign})
    with pytest.raises(SecretAccessError) as raised:
        run_secrets(values, admin, schema=schema)
    assert raised.value.handle == foreign


def test_duplicate_handles_are_reported_once():
    handle = str(uuid.uuid4())
    schema = [*TOKEN_SCHEMA, {"name": "again", "type": "list:basic:secret:"}]
    assert secret_handles(schema, {"token": {"handle": handle}, "again": [{"handle": handle}]}) == [handle]


# --- files for the program ---------------------------------------------------------------------


def test_secret_files_are_private(tmp_path):
    handle = str(uuid.uuid4())
    directory = write_secret_files({handle: VALUE}, tmp_path / "secrets")

    assert stat.S_IMODE(directory.stat().st_mode) == 0o300
    assert stat.S_IMODE((directory / handle).stat().st_mode) == 0o600
    assert (directory / handle).read_text() == VALUE
    remove_secret_files(directory)
    assert not directory.exists()

    with pytest.raises(ValueError):
        write_secret_files({"../escape": VALUE}, tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


# --- management command ------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_secret_command_prints_only_the_handle(admin, tmp_path):
    out = io.StringIO()
    call_command("create_secret", "--owner", "admin", "--value", VALUE, "--metadata", '{"a": 1}', stdout=out)
    handle = out.getvalue().strip()
    assert out.getvalue() == handle + "\n"
    assert Secret.objects.get_secret(handle, admin) == VALUE
    assert Secret.objects.get(pk=handle).metadata == {"a": 1}

    value_file = tmp_path / "token"
    value_file.write_text("from a file\n")
    out = io.StringIO()
    call_command("create_secret", "--owner", "admin", "--value-file", str(value_file), stdout=out)
    assert Secret.objects.get_secret(out.getvalue().strip(), admin) == "from a file\n"

    out = io.StringIO()
    call_command("create_secret", "--owner", "admin", "--value", "x", "--expires", "2000-01-01T00:00:00Z", stdout=out)
    assert not secret_exists(out.getvalue().strip(), admin)


@pytest.mark.django_db
def test_create_secret_command_errors(admin, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("create_secret", "--owner", "nobody", "--value", VALUE)
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("create_secret", "--owner", "admin", "--value-file", str(tmp_path / "missing"))
    with pytest.raises(CommandError, match="JSON object"):
        call_command("create_secret", "--owner", "admin", "--value", VALUE, "--metadata", "[1]")
    with pytest.raises(CommandError):
        call_command("create_secret", "--owner", "admin")  # neither --value nor --value-file
    assert not Secret.objects.exists()
