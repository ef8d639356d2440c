"""Data names rendered from the process's ``data_name`` template."""

from __future__ import annotations

from typing import Any

from resolwe_prefect.core.slugs import truncate_name


def naming_context(process, values: dict) -> dict[str, Any]:
    """Inputs with data references replaced by the referenced objects' outputs, as Resolwe hydrates them."""
    from resolwe_prefect.data.models import Data
    from resolwe_prefect.expressions.context import build_program_context

    def load_data(data_id: int) -> dict[str, Any]:
        data = Data.objects.select_related("process", "entity").filter(pk=data_id).first()
        return data_summary(data) if data is not None else {}

    return build_program_context(
        inputs=values,
        input_schema=process.input_schema,
        process={"slug": process.slug, "version": str(process.version), "name": process.name},
        data={},
        requirements=process.requirements or {},
        load_data=load_data,
        file_path=lambda _data_id, path: path,
    )


def data_summary(data) -> dict[str, Any]:
    """What the expression engine needs to know about a referenced Data object."""
    return {
        "id": data.pk,
        "slug": data.slug,
        "name": data.name,
        "type": data.process.type,
        "descriptor": data.descriptor,
        "output": data.output,
        "output_schema": data.process.output_schema,
        "process_slug": data.process.slug,
        "entity_id": data.entity_id,
        "entity_name": data.entity.name if data.entity_id else None,
    }


def render_data_name(process, values: dict, contributor_id: int | None = None) -> str:
    """Render ``data_name``; a template that fails gives ``"?"`` so that processing still goes on.

    Only a process that declares ``requirements.expression-engine`` has it rendered; otherwise the
    name is the template's text, as in Resolwe.

    Lookup filters (``sample_name``, ...) find what ``contributor_id`` may view.
    """
    from resolwe_prefect.data.expression_filters import acting_as
    from resolwe_prefect.expressions import EvaluationError
    from resolwe_prefect.expressions.configured import configured_engine

    template = process.data_name
    if not template:
        return truncate_name(process.name)
    if not (process.requirements or {}).get("expression-engine"):
        return truncate_name(template)  # as in Resolwe: no expression engine, no rendering
    try:
        with acting_as(contributor_id):
            name = configured_engine("jinja").evaluate_block(template, naming_context(process, values))
    except EvaluationError:
        name = "?"
    except Exception:  # a missing input Data or a broken engine must not block creation
        name = "?"
    return truncate_name(name)
