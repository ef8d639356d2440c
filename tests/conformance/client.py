"""HTTP access as one actor: a Django session (as resdk does) or no login for `anonymous`."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from urllib.parse import quote

import requests

REQUEST_TIMEOUT = 60


class Client:
    def __init__(self, base_url: str, username: str | None, password: str | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username or "anonymous"
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        if username is not None:
            response = self.session.post(
                f"{self.base_url}/rest-auth/login/",
                data={"email": username, "password": password},
                timeout=REQUEST_TIMEOUT,
            )
            if response.status_code != 200:
                raise RuntimeError(f"login as {username} failed ({response.status_code}): {response.text[:300]}")
            self.session.headers["X-CSRFToken"] = self.session.cookies.get("csrftoken", "")
            self.session.headers["Referer"] = self.base_url

    def request(
        self, method: str, path: str, body=None, params=None, timeout: float = REQUEST_TIMEOUT
    ) -> requests.Response:
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        kwargs = {"params": params, "timeout": max(1.0, timeout)}
        if body is not None:
            kwargs["json"] = body
        return self.session.request(method.upper(), url, **kwargs)

    def get_json(self, path: str, params=None):
        response = self.request("GET", path, params=params)
        if response.status_code != 200:
            raise AssertionError(f"GET {path} answered {response.status_code}: {response.text[:300]}")
        return response.json()

    def list(self, path: str, params=None) -> list:
        """A list endpoint; accepts both a bare list and the paginated envelope."""
        body = self.get_json(path, params)
        if isinstance(body, dict) and "results" in body:
            return body["results"]
        return body

    def upload(self, path: Path) -> dict:
        content = path.read_bytes()
        response = self.session.post(
            f"{self.base_url}/upload/",
            files={"file": (path.name, content)},
            data={
                "_chunkSize": max(len(content), 1),
                "_totalSize": len(content),
                "_chunkNumber": 0,
                "_currentChunkSize": len(content),
            },
            headers={"Session-Id": str(uuid.uuid4()), "X-File-Uid": str(uuid.uuid4())},
            timeout=REQUEST_TIMEOUT,
        )
        if response.status_code != 200:
            raise AssertionError(f"upload of {path.name} answered {response.status_code}: {response.text[:300]}")
        return {"file": path.name, "file_temp": response.json()["files"][0]["temp"]}

    def data_path(self, data_id: int, path: str) -> requests.Response:
        """`/data/<id>/<path>`: a JSON listing for a directory, the bytes of a file."""
        return self.request("GET", f"/data/{data_id}/{quote(path)}")


def wait_until(predicate, timeout: float, interval: float = 0.1):
    """Poll `predicate` until it returns a truthy value; return it, or None on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)
