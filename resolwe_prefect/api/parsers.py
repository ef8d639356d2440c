"""The JSON parser every API view uses: bounded in size and depth, and only text PostgreSQL can store.

DRF's ``JSONParser`` reads the whole body without a limit and hands every
oddity on: 100,000 nested lists raised ``RecursionError`` (a 500), and a
lone surrogate (``"\\ud800"``) or a NUL character parsed fine and then
failed at the database (another 500). This parser answers all of them with
``400 {"detail": "JSON parse error - ..."}``, DRF's own wording for a body it
cannot read, and a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` with a 413
(forms too; multipart bodies are limited by Django's own parser).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import QueryDict
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError

#: How many arrays and objects may nest; Resolwe's own documents stay far below.
MAX_DEPTH = 100


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is too large."
    default_code = "request_too_large"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def read_body(stream) -> bytes:
    """The whole body, or :class:`RequestTooLarge` once it passes ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = stream.read() if limit is None else stream.read(limit + 1)
    if limit is not None and len(body) > limit:
        raise RequestTooLarge(f"Request body is too large (over {limit} bytes).")
    return body


class FormParser(parsers.FormParser):
    """DRF's form parser, with the same size limit (DRF reads the body without one)."""

    def parse(self, stream, media_type=None, parser_context=None) -> QueryDict:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        return QueryDict(read_body(stream), encoding=encoding)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with a size limit, a nesting limit and a check of every string."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        body = read_body(stream)
        try:
            data = json.loads(body.decode(encoding), parse_constant=_refuse_constant)
        except RecursionError as error:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels") from error
        except ValueError as error:  # also UnicodeDecodeError and too many digits in an integer
            raise ParseError(f"JSON parse error - {error}") from error
        problem = find_problem(data)
        if problem:
            raise ParseError(f"JSON parse error - {problem}")
        return data


def find_problem(data: Any, max_depth: int = MAX_DEPTH) -> str | None:
    """What makes ``data`` unacceptable (too deep, a string that is not valid text), or ``None``.

    Iterative, so that it cannot itself run out of stack.
    """
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            problem = _text_problem(value)
            if problem:
                return problem
        elif isinstance(value, (dict, list)):
            if depth > max_depth:
                return f"nested deeper than {max_depth} levels"
            if isinstance(value, dict):
                for key in value:
                    problem = _text_problem(key)
                    if problem:
                        return problem
                stack.extend((item, depth + 1) for item in value.values())
            else:
                stack.extend((item, depth + 1) for item in value)
    return None


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "strings must not contain NUL characters (\\u0000)"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "strings must not contain lone surrogates (such as \\ud800)"
    return None
