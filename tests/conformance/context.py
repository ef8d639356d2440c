"""Per-case state: bound names, actor sessions, fixtures, warnings, the case deadline."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from client import Client
from corpus import Corpus
from stack import PASSWORDS, Stack

FINAL = {"OK", "ER", "DR"}
# Where a bound object of each kind is read (for `{ref: x, attr: ...}` and `{fmt: ...}`).
ENDPOINTS = {
    "data": "/api/data",
    "collection": "/api/collection",
    "entity": "/api/entity",
    "process": "/api/process",
    "storage": "/api/storage",
    "descriptorschema": "/api/descriptorschema",
    "sample": "/api/entity",
}


class CaseTimeout(Exception):
    pass


@dataclass
class Binding:
    kind: str
    id: int


@dataclass
class CaseContext:
    case: dict
    corpus: Corpus
    stack: Stack
    clients: dict  # actor -> Client, shared between cases of one database epoch
    tmp: Path
    deadline: float
    bindings: dict[str, Binding] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    created: list[int] = field(default_factory=list)  # every Data id this case created

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise CaseTimeout("the case timed out")
        return left

    def client(self, actor: str | None = None) -> Client:
        actor = actor or "admin"
        if actor not in ("admin", "contributor", "user", "anonymous"):
            raise AssertionError(f"unknown actor {actor!r}")
        key = (self.stack.epoch, actor)
        if key not in self.clients:
            for stale in [k for k in self.clients if k[0] != self.stack.epoch]:
                del self.clients[stale]
            if actor == "anonymous":
                self.clients[key] = Client(self.stack.api, None, None)
            else:
                self.clients[key] = Client(self.stack.api, actor, PASSWORDS[actor])
        return self.clients[key]

    def bind(self, name: str, kind: str, object_id: int) -> None:
        self.bindings[name] = Binding(kind, int(object_id))
        if kind == "data" and int(object_id) not in self.created:
            self.created.append(int(object_id))

    def binding(self, name: str) -> Binding:
        if name not in self.bindings:
            raise AssertionError(f"name {name!r} is not bound")
        return self.bindings[name]

    def id_of(self, name: str) -> int:
        return self.binding(name).id

    def name_of(self, object_id: int) -> str:
        for name, binding in self.bindings.items():
            if binding.id == object_id:
                return name
        return f"#{object_id}"

    def fetch(self, name: str) -> dict:
        binding = self.binding(name)
        endpoint = ENDPOINTS.get(binding.kind, f"/api/{binding.kind}")
        return self.client().get_json(f"{endpoint}/{binding.id}")

    def data(self, name: str) -> dict:
        return self.client().get_json(f"/api/data/{self.id_of(name)}")
