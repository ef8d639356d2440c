"""The markdown summary an operator sees in the Prefect UI for a finished Data flow run."""

from resolwe_prefect.execution.run.artifacts import MAX_CELL, artifact_key, outputs_markdown
from resolwe_prefect.execution.run.plan import ProcessSpec, RunPlan


def _plan() -> RunPlan:
    return RunPlan(
        data_id=7, flow_run_id="f", slug="word-count", name="Words", contributor_id=1,
        process=ProcessSpec(
            id=1, slug="count-words", version="1.2.0", name="Count words", type="data:count:", run={},
            requirements={}, input_schema=[], output_schema=[],
        ),
        input={}, limits={}, data_dir="/tmp/d", runtime_dir="/tmp/r",
    )  # fmt: skip


def test_summary_lists_status_and_every_output():
    text = outputs_markdown(_plan(), {"ok": True, "output": {"words": 27, "file": {"file": "a|b.txt"}}, "errors": []})
    assert "### Data 7: Words" in text
    assert "Process `count-words` 1.2.0, status **OK**." in text  # the process, not the Data object's slug
    assert "| words | 27 |" in text
    assert '| file | {"file": "a\\|b.txt"} |' in text  # pipes are escaped so the table holds
    assert "Errors" not in text


def test_summary_of_a_failure_names_the_errors_and_shortens_long_values():
    text = outputs_markdown(_plan(), {"ok": False, "output": {"log": "x" * 500}, "errors": ["rc 1"]})
    assert "status **ER**" in text
    assert "- rc 1" in text
    row = next(line for line in text.splitlines() if line.startswith("| log |"))
    assert len(row) < MAX_CELL + 20 and row.endswith("… |")


def test_keys_use_only_what_prefect_allows():
    key = artifact_key(_plan(), "progress")
    assert key == "data-7-progress"
    assert all(c.islower() or c.isdigit() or c == "-" for c in key)
