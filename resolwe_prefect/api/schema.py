"""OpenAPI post-processing: the error answers every Resolwe endpoint can give.

drf-spectacular documents only the success responses it can infer. Every
operation can also refuse a request (400 with the field and the reason, 401,
403, 404 for objects the caller cannot see, 405, 409 on a uniqueness clash,
415), so clients and schema-driven tests can rely on those shapes too.
"""

from __future__ import annotations

from typing import Any

#: DRF's error bodies: ``{"detail": ...}``, ``{"<field>": [reasons]}``, or a list of reasons.
ERROR_BODY: dict[str, Any] = {
    "oneOf": [
        {"type": "object", "additionalProperties": True},
        {"type": "array"},
    ]
}

ERROR_RESPONSES: dict[str, str] = {
    "400": "The request is invalid; the body names the field and the reason.",
    "401": "Authentication is required for this operation.",
    "403": "The caller may see the object but not do this to it.",
    "404": "No such object, or the caller may not see it.",
    "405": "The method is not allowed here.",
    "409": "The request clashes with an existing object.",
    "415": "Unsupported media type.",
}


def document_error_responses(result: dict, generator, request, public) -> dict:
    """Add the shared error responses to every operation that does not describe them itself."""
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_RESPONSES.items():
                responses.setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": ERROR_BODY}}}
                )
    return result
