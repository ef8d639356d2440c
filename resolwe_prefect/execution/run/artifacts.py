"""Prefect artifacts for a Data flow run: live progress and a summary of the outputs.

Operators watch runs in the Prefect UI, not in our API. ``re-progress`` is
mirrored into a progress artifact (created on the first report, so trivial
programs cost no extra API calls) and the finished run gets a markdown
artifact listing its status and outputs. Artifacts are a view: failing to
write one is logged and never changes the Data object's outcome.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from prefect import get_run_logger
from prefect.artifacts import acreate_markdown_artifact, acreate_progress_artifact, aupdate_progress_artifact

from resolwe_prefect.execution.run.plan import RunPlan

#: Values longer than this are shortened in the summary table.
MAX_CELL = 120


def artifact_key(plan: RunPlan, kind: str) -> str:
    """Keys may hold only lowercase letters, digits and dashes; one key per Data object and kind."""
    return f"data-{plan.data_id}-{kind}"


class ProgressMirror:
    """Keeps one progress artifact in step with the program's ``re-progress`` reports."""

    def __init__(self, plan: RunPlan) -> None:
        self.plan = plan
        self.artifact_id: UUID | None = None

    async def report(self, fraction: float) -> None:
        """``fraction`` is what the program reported (0..1); Prefect wants a percentage."""
        percent = max(0.0, min(100.0, fraction * 100))
        try:
            if self.artifact_id is None:
                self.artifact_id = await acreate_progress_artifact(
                    percent,
                    key=artifact_key(self.plan, "progress"),
                    description=f"Progress of Data {self.plan.data_id} ({self.plan.slug})",
                )
            else:
                await aupdate_progress_artifact(self.artifact_id, percent)
        except Exception as error:  # noqa: BLE001 - artifacts are best effort by design
            get_run_logger().warning("Could not update the progress artifact: %s", error)


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def outputs_markdown(plan: RunPlan, outcome: dict[str, Any]) -> str:
    """A short markdown report: status, the outputs as a table, and any errors."""
    status = "OK" if outcome.get("ok") else "ER"
    process = f"`{plan.process.slug}` {plan.process.version}".rstrip()
    lines = [f"### Data {plan.data_id}: {plan.name}", "", f"Process {process}, status **{status}**.", ""]
    output = outcome.get("output") or {}
    if output:
        lines += ["| output | value |", "|---|---|"]
        lines += [f"| {_cell(name)} | {_cell(value)} |" for name, value in sorted(output.items())]
        lines.append("")
    errors = outcome.get("errors") or []
    if errors:
        lines += ["Errors:", ""] + [f"- {_cell(error)}" for error in errors]
    return "\n".join(lines)


async def publish_outputs_summary(plan: RunPlan, outcome: dict[str, Any]) -> None:
    """Attach the markdown summary to the current flow run."""
    try:
        await acreate_markdown_artifact(
            outputs_markdown(plan, outcome),
            key=artifact_key(plan, "outputs"),
            description=f"Outputs of Data {plan.data_id} ({plan.slug})",
        )
    except Exception as error:  # noqa: BLE001 - artifacts are best effort by design
        get_run_logger().warning("Could not publish the outputs artifact: %s", error)
