"""What a Python process may ask the channel, and with whose permissions: the command handlers.

Each handler runs in a thread with the ORM and acts as the Data object's
contributor, with the rules of Resolwe's listener
(``resolwe/flow/managers/listener/{python_process,permission}_plugin.py``):

* a model is read through an explicit allow-list of fields (:data:`MODELS`);
  filters, orderings and returned names may only use those, and a relation may
  be followed one step, into the related model's own allow-list;
* an object is visible when the contributor may view it; the running Data
  object, its inputs (and their processes) are visible as well, and a Storage
  is visible through its Data or to its contributor;
* an object that is not visible reads as missing
  (:data:`NOT_READABLE`; a ``get`` matching several says how many, as Resolwe's); one that is
  visible but not editable gives :func:`no_edit` ("No edit permission for
  entity with id 7."). The running Data object is always editable;
* new Data objects are children of the running one, created through
  ``data.services.create_data`` (the API's validation), also those of
  ``run_process`` (``run``), created at once as Resolwe's listener does; new
  collections and entities belong to the contributor.

Handlers raise :class:`ChannelError` with the message the program reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import FieldError, ValidationError

from resolwe_prefect.execution.run.object_api.access import NOT_READABLE, ChannelError, Requester
from resolwe_prefect.execution.run.object_api.reads import (
    filter_objects,
    get_fields,
    get_object,
    process_latest,
    read_annotations,
    storage_json,
)
from resolwe_prefect.execution.run.object_api.writes import annotate, create, run, update

__all__ = ["HANDLERS", "NOT_READABLE", "REQUEST_ERRORS", "ChannelError", "Requester"]

#: command -> handler(requester, args) -> result
HANDLERS: dict[str, Callable[[Requester, dict[str, Any]], Any]] = {
    "filter": filter_objects,
    "get": get_object,
    "fields": get_fields,
    "create": create,
    "update": update,
    "annotations": read_annotations,
    "annotate": annotate,
    "process_latest": process_latest,
    "storage": storage_json,
    "run": run,
}

#: Errors of a request the ORM refuses (a bad lookup or value), told to the program as they are.
REQUEST_ERRORS = (ChannelError, FieldError, ValidationError, ValueError, TypeError, LookupError)
