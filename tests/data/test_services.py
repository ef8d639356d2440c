"""Creating Data objects: validation, defaults, checksum, names, resources, dependencies."""

import pytest

from resolwe_prefect.data.models import Data, DataDependency, DataStatus
from resolwe_prefect.data.services import DataError, create_data, get_or_create_data, restart_data

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
    make_process(admin, "named", inputs=[{"name": "s", "label": "S", "type": "basic:string:"}], data_name="Run {{ s }}")
    make_process(admin, "broken", data_name="{% if")
    assert create_data(user=admin, process_ref={"slug": "named"}, input={"s": "x y"}).name == "Run x y"
    assert create_data(user=admin, process_ref={"slug": "broken"}).name == "?"
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
