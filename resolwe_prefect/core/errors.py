"""The base of the errors a service raises for a request it cannot honour.

Services (``data.services``, ``uploads.chunks``) know why a request fails
and what the client should read, but not HTTP: they raise a subclass of
:class:`ServiceError` with the body and status, and the API's exception
handler (``api.exceptions``) answers with them. Plain Python, so that pure
modules and the execution layer can raise and catch it without DRF.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A request that cannot be honoured; ``detail`` is the response body, ``status_code`` its status."""

    def __init__(self, detail: Any, status_code: int = 400) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status_code = status_code
