import pytest

from resolwe_prefect.data import lifecycle
from resolwe_prefect.processes.models import Process

SUBMITTED: list[int] = []


def record_submission(data_ids: list[int]) -> None:
    """A submitter that remembers what would have gone to Prefect."""
    SUBMITTED.extend(data_ids)


@pytest.fixture
def submitted():
    """Ready Data objects go to ``SUBMITTED`` instead of Prefect (nothing is offered to a worker)."""
    previous = lifecycle.registered()
    lifecycle.register(record_submission)
    SUBMITTED.clear()
    yield SUBMITTED
    lifecycle.register(*previous)


def make_process(user, slug, *, inputs=(), outputs=(), data_name=None, **fields) -> Process:
    return Process.objects.create(
        slug=slug,
        name=slug.title(),
        version=fields.pop("version", "1.0.0"),
        type=fields.pop("type", f"data:{slug}:"),
        contributor=user,
        input_schema=list(inputs),
        output_schema=list(outputs),
        data_name=data_name,
        run={"language": "bash", "program": "true"},
        **fields,
    )
