"""Creating Data objects: validation, defaults, checksum, names, resources, dependencies."""

import pytest

from resolwe_prefect.data.models import Data, DataDependency, DataStatus
from resolwe_prefect.data.services import DataError, create_data, get_or_create_data, restart_data
from resolwe_prefect.processes.models import Process

from .conftest import make_process

pytestmark = pytest.mark.django_db


def test_defaults_are_filled_and_checksum_set(admin):
    make_process(admin, "p", inputs=[{"name": "n", "label": "N", "type": "basic:integer:", "default": 3}])
    data = create_data(user=admin, process_ref={"slug": "p"}, input={})
    assert data.input == {"n": 3}
    assert len(data.checksum) == 64
    assert data.status == DataStatus.RESOLVING
    assert data.contributor == admin


def test_latest_active_version_is_used(admin):
    make_process(admin, "p", version="1.0.0")
    make_process(admin, "p", version="1.10.0")
    make_process(admin, "p", version="1.9.0")
    assert str(create_data(user=admin, process_ref={"slug": "p"}).process.version) == "1.10.0"


def test_bad_input_names_the_field_and_creates_nothing(admin):
    make_process(admin, "p", inputs=[{"name": "n", "label": "N", "type": "basic:integer:"}])
    with pytest.raises(DataError) as error:
        create_data(user=admin, process_ref={"slug": "p"}, input={"n": "x"})
    assert "input.n" in error.value.detail
    assert Data.objects.count() == 0


def test_data_input_must_match_type_hierarchy(admin):
    make_process(admin, "genome", type="data:genome:fasta:")
    make_process(admin, "other", type="data:reads:")
    make_process(admin, "consumer", inputs=[{"name": "g", "label": "G", "type": "data:genome:"}])
    genome = create_data(user=admin, process_ref={"slug": "genome"})
    reads = create_data(user=admin, process_ref={"slug": "other"})
    consumer = create_data(user=admin, process_ref={"slug": "consumer"}, input={"g": genome.pk})
    assert list(consumer.parents.all()) == [genome]
    assert DataDependency.objects.get(child=consumer).kind == DataDependency.KIND_IO
    with pytest.raises(DataError):
        create_data(user=admin, process_ref={"slug": "consumer"}, input={"g": reads.pk})


def test_invalid_process_resources_are_rejected(admin):
    make_process(admin, "p")
    with pytest.raises(DataError) as error:
        create_data(user=admin, process_ref={"slug": "p"}, process_resources={"cpu": 4})
    assert "Additional properties are not allowed ('cpu' was unexpected)" in error.value.detail["error"]


def test_resources_follow_precedence_and_caps(admin, settings):
    settings.FLOW_PROCESS_MAX_CORES = 2
    make_process(admin, "p", requirements={"resources": {"cores": 1, "memory": 1024}})
    data = create_data(user=admin, process_ref={"slug": "p"}, process_resources={"cores": 8})
    assert (data.process_cores, data.process_memory) == (2, 1024)
    assert data.process_resources == {"cores": 8}


def test_data_name_is_rendered_and_broken_template_gives_question_mark(admin):
    jinja = {"expression-engine": "jinja"}
    make_process(admin, "named", inputs=[{"name": "s", "label": "S", "type": "basic:string:"}], data_name="Run {{ s }}",
                 requirements=jinja)  # fmt: skip
    make_process(admin, "broken", data_name="{% if", requirements=jinja)
    make_process(admin, "literal", data_name="Run {{ s }}")
    assert create_data(user=admin, process_ref={"slug": "named"}, input={"s": "x y"}).name == "Run x y"
    assert create_data(user=admin, process_ref={"slug": "broken"}).name == "?"
    # No expression engine declared: the name is the template's text, as in Resolwe.
    assert create_data(user=admin, process_ref={"slug": "literal"}).name == "Run {{ s }}"
    assert create_data(user=admin, process_ref={"slug": "named"}, input={"s": "a"}, name="Mine").named_by_user


def test_get_or_create_reuses_cached_processes_only(admin):
    make_process(admin, "raw")
    make_process(admin, "cached", persistence="CAC")
    first, created = get_or_create_data(user=admin, process_ref={"slug": "cached"}, input={})
    again, created_again = get_or_create_data(user=admin, process_ref={"slug": "cached"}, input={})
    assert created and not created_again and first == again
    assert get_or_create_data(user=admin, process_ref={"slug": "raw"}, input={})[1]
    assert get_or_create_data(user=admin, process_ref={"slug": "raw"}, input={})[1]


def test_restart_only_from_error(admin):
    make_process(admin, "p")
    data = create_data(user=admin, process_ref={"slug": "p"})
    with pytest.raises(DataError, match="Only data in status ER can be restarted, not RE."):
        restart_data(data)
    Data.objects.filter(pk=data.pk).update(status=DataStatus.ERROR, process_error=["boom"])
    restarted = restart_data(data, resource_overrides={str(data.pk): {"cores": 1}})
    assert restarted.status == DataStatus.RESOLVING and restarted.process_error == []
    assert restarted.attempt == 2 and restarted.process_resources == {"cores": 1}


# --- where file and URL inputs may come from (issue 14, findings 5 and 7) ---------------------


def _file_process(owner, slug="upload-like", type_="basic:file:"):
    """A process everyone may run, with one file (or URL) input ``src``."""
    from resolwe_prefect.permissions import services as permissions
    from resolwe_prefect.permissions.models import Permission

    process = make_process(owner, slug, inputs=[{"name": "src", "label": "Source", "type": type_}])
    permissions.set_permission(process, permissions.PUBLIC, Permission.VIEW)
    return process


def _upload(owner, handle, *, complete=True):
    from django.utils import timezone

    from resolwe_prefect.uploads.models import Upload
    from resolwe_prefect.uploads.storage import upload_path

    upload_path(handle).write_bytes(b"secret")
    return Upload.objects.create(
        handle=handle,
        owner=owner,
        total_size=6,
        size=6 if complete else 3,
        completed=timezone.now() if complete else None,
    )


def _refused(user, slug, src, **kwargs) -> list[str]:
    count = Data.objects.count()
    with pytest.raises(DataError) as error:
        create_data(user=user, process_ref={"slug": slug}, input={"src": src}, **kwargs)
    assert Data.objects.count() == count, "a refused request must create nothing"
    return error.value.detail["input.src"]


def test_any_handle_is_accepted_at_creation_as_in_resolwe(admin, contributor):
    """Resolwe takes any handle at creation; whose it is, the flow run checks (``run.staging``).

    Refusing another user's handle here would tell whether it exists.
    """
    _file_process(admin)
    _upload(admin, "a" * 32)
    for handle in ("a" * 32, "b" * 32, "12345"):
        assert create_data(
            user=contributor, process_ref={"slug": "upload-like"}, input={"src": {"file": "x", "file_temp": handle}}
        )
    assert _refused(contributor, "upload-like", {"file": "x", "file_temp": "../../db.sqlite3"}) == [
        "Upload '../../db.sqlite3' does not exist."
    ]


@pytest.mark.parametrize(
    "file_temp",
    ["http://127.0.0.1:4200/api/flow_runs/filter", "http://2130706433/", "http://0x7f.1/", "http://[::ffff:127.0.0.1]/",
     "http://169.254.169.254/latest/meta-data/", "http://localhost:8000/api/user", "gopher://example.org/", "s3://bucket/key"],
)  # fmt: skip
def test_file_temp_urls_of_internal_hosts_are_refused(contributor, file_temp):
    _file_process(contributor)
    (message,) = _refused(contributor, "upload-like", {"file": "x", "file_temp": file_temp})
    assert message.startswith("file_temp URL")


def test_public_urls_pass_and_a_site_may_allow_private_ones(contributor, settings):
    _file_process(contributor)
    public = {"file": "x", "file_temp": "https://93.184.216.34/reads.fq"}
    assert create_data(user=contributor, process_ref={"slug": "upload-like"}, input={"src": public})
    settings.FLOW_IMPORT_ALLOW_PRIVATE_URLS = True
    private = {"file": "x", "file_temp": "http://127.0.0.1:8000/x"}
    assert create_data(user=contributor, process_ref={"slug": "upload-like"}, input={"src": private})


def test_download_urls_follow_the_url_policy_links_only_the_scheme(contributor):
    _file_process(contributor, "fetch", "basic:url:download:")
    _file_process(contributor, "link", "basic:url:link:")
    (message,) = _refused(contributor, "fetch", {"url": "http://10.0.0.7/secret"})
    assert "private address" in message
    assert create_data(user=contributor, process_ref={"slug": "link"}, input={"src": {"url": "http://10.0.0.7/wiki"}})
    assert "Only http, https, ftp" in _refused(contributor, "link", {"url": "javascript:alert(1)"})[0]


def test_local_paths_only_inside_import_roots(contributor, settings, tmp_path):
    _file_process(contributor)
    settings.FLOW_LOCAL_IMPORT_ROOTS = [str(tmp_path / "shared")]
    for path in ["/etc/passwd", f"{tmp_path}/shared/../secret", "file:///etc/passwd"]:
        assert (
            "is not inside an import root" in _refused(contributor, "upload-like", {"file": "x", "file_temp": path})[0]
        )
    inside = {"file": "x", "file_temp": f"{tmp_path}/shared/reads.fq"}
    assert create_data(user=contributor, process_ref={"slug": "upload-like"}, input={"src": inside})


def test_get_or_create_checks_sources_too(contributor):
    _file_process(contributor)
    Process.objects.filter(slug="upload-like").update(persistence=Process.PERSISTENCE_CACHED)
    with pytest.raises(DataError) as error:
        get_or_create_data(
            user=contributor,
            process_ref={"slug": "upload-like"},
            input={"src": {"file": "x", "file_temp": "http://127.0.0.1/"}},
        )
    assert "input.src" in error.value.detail


@pytest.mark.parametrize(
    "kwargs, field",
    [({"name": 12345}, "name"), ({"name": {"a": 1}}, "name"), ({"tags": "abc"}, "tags"), ({"tags": 123}, "tags"),
     ({"tags": [1]}, "tags"), ({"descriptor": "x"}, "descriptor"), ({"process_ref": {"id": "abc"}}, "process"),
     ({"process_ref": {"id": 2**70}}, "process"), ({"process_ref": {"slug": {"a": 1}}}, "process"),
     ({"collection_id": 2**70}, "collection"), ({"entity_id": "²"}, "entity")],
)  # fmt: skip
def test_values_of_the_wrong_type_name_their_field(admin, kwargs, field):
    """They were stored coerced (``"abc"`` as three tags) or raised a 500."""
    make_process(admin, "p")
    with pytest.raises(DataError) as error:
        create_data(user=admin, **{"process_ref": {"slug": "p"}, **kwargs})
    assert field in error.value.detail
    assert Data.objects.count() == 0
