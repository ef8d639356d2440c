"""Two ordinary users, each with a client, for upload attacks; and a helper that sends one chunk."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient


@pytest.fixture
def mallory(db):
    return get_user_model().objects.create_user("mallory", "mallory@example.com", "pw")


@pytest.fixture
def mallory_client(mallory) -> APIClient:
    client = APIClient()
    client.force_authenticate(mallory)
    return client


def send_chunk(client, content: bytes, number, size, total, *, current=None, session="s-1", file_uid="f-1"):
    """One chunk exactly as resdk sends it (``_currentChunkSize`` defaults to the real length)."""
    body = {"file": SimpleUploadedFile("reads.fq", content), "_chunkNumber": number, "_chunkSize": size,
            "_totalSize": total, "_currentChunkSize": len(content) if current is None else current}  # fmt: skip
    headers = {"HTTP_SESSION_ID": session, "HTTP_X_FILE_UID": file_uid}
    return client.post("/upload/", body, format="multipart", **headers)
