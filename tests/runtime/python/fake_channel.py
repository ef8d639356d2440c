"""A fake of the flow run's channel (docs/python-processes.md, part 3) for the runtime tests.

A thread serves the protocol (newline-delimited JSON over a Unix or TCP
socket) from a dict of objects ``{model: {id: {field: value}}}`` and records
every request. Foreign keys are stored as ids under the field name (as the
channel returns them); many-to-many fields as lists of ids.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path
from typing import Any

NO_OBJECT = "No objects match the given criteria or no permission to read object."

#: Which model a foreign key / many-to-many field points to (for lookups across them).
RELATED = {
    "entity": "Entity",
    "collection": "Collection",
    "process": "Process",
    "data": "Data",
    "descriptor_schema": "DescriptorSchema",
    "storages": "Storage",
    "parents": "Data",
}


class Refused(Exception):
    """The fake channel answers with ``error``."""


class FakeChannel:
    """Serve the channel protocol from ``objects``; ``requests`` lists what was asked."""

    def __init__(
        self,
        objects: dict[str, dict[int, dict[str, Any]]] | None = None,
        annotations: dict[int, dict[str, Any]] | None = None,
        *,
        no_view: set[tuple[str, int]] | None = None,
        no_edit: set[tuple[str, int]] | None = None,
        token: str | None = None,
    ):
        self.objects = copy.deepcopy(objects or {})
        self.annotations = copy.deepcopy(annotations or {})
        self.no_view = set(no_view or ())
        self.no_edit = set(no_edit or ())
        self.token = token
        self.requests: list[dict[str, Any]] = []
        self.tokens_seen: list[str] = []
        self._lock = threading.Lock()
        self._server: socket.socket | None = None
        self._dir: str | None = None
        self.address = ""

    # -------------------------------------------------------------- serving
    def start(self, tcp: bool = False) -> FakeChannel:
        if tcp:
            server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            server.bind(("127.0.0.1", 0))
            self.address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        else:
            # Short path: AF_UNIX paths are limited to ~107 bytes.
            self._dir = tempfile.mkdtemp(prefix="ch-")
            path = os.path.join(self._dir, "channel.sock")
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.bind(path)
            self.address = path
        server.listen(8)
        self._server = server
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)

    def _accept(self) -> None:
        assert self._server is not None
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        try:
            if self.address.startswith("tcp://"):
                first = json.loads(reader.readline() or b"{}")
                self.tokens_seen.append(first.get("token"))
                if first.get("token") != self.token:
                    return
            for raw in reader:
                request = json.loads(raw)
                with self._lock:
                    self.requests.append({"command": request["command"], **request["args"]})
                    try:
                        reply = {"id": request["id"], "result": self.handle(request["command"], request["args"])}
                    except Refused as error:
                        reply = {"id": request["id"], "error": str(error)}
                conn.sendall(json.dumps(reply).encode() + b"\n")
        except (OSError, ValueError):
            pass
        finally:
            reader.close()
            conn.close()

    # -------------------------------------------------------------- helpers
    def commands(self, name: str | None = None) -> list[dict[str, Any]]:
        """The requests made (of one command)."""
        return [r for r in self.requests if name is None or r["command"] == name]

    def _table(self, model: str) -> dict[int, dict[str, Any]]:
        return self.objects.setdefault(model, {})

    def _visible(self, model: str) -> dict[int, dict[str, Any]]:
        return {pk: obj for pk, obj in self._table(model).items() if (model, pk) not in self.no_view}

    def _lookup(self, model: str, obj_id: Any, obj: dict[str, Any], key: str, expected: Any) -> bool:
        parts = key.split("__")
        lookup = "exact"
        if parts[-1] in ("in", "exact", "icontains", "startswith", "gt", "lt"):
            lookup = parts.pop()
        values: list[Any] = [{"id": obj_id, **obj}]
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            next_values: list[Any] = []
            part = "id" if part == "pk" else part
            for value in values:
                if isinstance(value, dict) and part not in value and part.endswith("_id") and part[:-3] in value:
                    part = part[:-3]  # Django's "entity_id" is the "entity" foreign key.
                item = value.get(part) if isinstance(value, dict) else None
                related = RELATED.get(part)
                items = item if isinstance(item, list) else [item]
                for entry in items:
                    if related and isinstance(entry, int) and not last:
                        target = self._table(related).get(entry)
                        if target is not None:
                            next_values.append({"id": entry, **target})
                    else:
                        next_values.append(entry)
            values = next_values
        for value in values:
            if lookup == "exact" and value == expected:
                return True
            if lookup == "in" and value in expected:
                return True
            if lookup == "icontains" and isinstance(value, str) and str(expected).lower() in value.lower():
                return True
            if lookup == "startswith" and isinstance(value, str) and value.startswith(str(expected)):
                return True
            if lookup == "gt" and value is not None and value > expected:
                return True
            if lookup == "lt" and value is not None and value < expected:
                return True
        return False

    def _filter(self, model: str, filters: dict[str, Any], order_by: list[str] | None = None) -> list[int]:
        found = [
            pk
            for pk, obj in self._visible(model).items()
            if all(self._lookup(model, pk, obj, key, value) for key, value in filters.items())
        ]
        for key in reversed(order_by or []):
            name = key.lstrip("-")

            def sort_key(pk: int, name: str = name) -> Any:
                value = pk if name == "id" else self._table(model)[pk].get(name)
                if name == "version" and isinstance(value, str):
                    return tuple(int(p) for p in value.split("."))
                return value

            found.sort(key=sort_key, reverse=key.startswith("-"))
        return found

    def _entry(self, model: str, pk: int, fields: list[str]) -> dict[str, Any]:
        obj = self._table(model)[pk]
        entry: dict[str, Any] = {"id": pk}
        for name in fields:
            if name not in obj:
                raise Refused(f"Field '{name}' of {model} cannot be read.")
            entry[name] = obj[name]
        return entry

    # ------------------------------------------------------------- commands
    def handle(self, command: str, args: dict[str, Any]) -> Any:
        if command == "filter":
            pks = self._filter(args["model"], args.get("filters") or {}, args.get("order_by"))
            if args.get("limit") is not None:
                pks = pks[: args["limit"]]
            return [self._entry(args["model"], pk, args.get("fields") or []) for pk in pks]
        if command == "get":
            pks = self._filter(args["model"], args.get("filters") or {})
            if len(pks) != 1:
                raise Refused(NO_OBJECT)
            return self._entry(args["model"], pks[0], args.get("fields") or [])
        if command == "fields":
            model, pk = args["model"], args["id"]
            if pk not in self._visible(model):
                raise Refused(NO_OBJECT)
            entry = self._entry(model, pk, args["names"])
            entry.pop("id", None)
            return entry
        if command == "create":
            table = self._table(args["model"])
            pk = max([1000, *table]) + 1
            table[pk] = dict(args["fields"])
            return {"id": pk}
        if command == "update":
            model, pk = args["model"], args["id"]
            if pk not in self._visible(model):
                raise Refused(NO_OBJECT)
            if (model, pk) in self.no_edit:
                raise Refused(f"No edit permission for {model.lower()} with id {pk}.")
            self._table(model)[pk].update(args["fields"])
            return {}
        if command == "annotations":
            entity = args["entity"]
            if entity not in self._visible("Entity"):
                raise Refused(NO_OBJECT)
            values = self.annotations.get(entity, {})
            paths = args.get("paths")
            return {k: v for k, v in values.items() if paths is None or k in paths}
        if command == "annotate":
            entity = args["entity"]
            if ("Entity", entity) in self.no_edit:
                raise Refused(f"No edit permission for entity with id {entity}.")
            if args.get("replace"):
                self.annotations[entity] = {}
            self.annotations.setdefault(entity, {}).update(args["values"])
            return {}
        if command == "process_latest":
            pks = self._filter("Process", {"slug": args["slug"]}, ["-version"])
            if not pks:
                raise Refused(NO_OBJECT)
            return self._entry("Process", pks[0], ["slug", "version"])
        if command == "run":  # a child Data object of the running one
            table = self._table("Data")
            pk = max([1000, *table]) + 1
            table[pk] = {"process": args["process"], "input": args["input"], "exported": args["export"]}
            return {"id": pk}
        if command == "storage":
            storage = self._visible("Storage").get(args["id"])
            if storage is None:
                raise Refused(NO_OBJECT)
            return storage["json"]
        raise Refused(f"Unknown command '{command}'.")


def write_source(directory: Path, text: str, name: str = "process.py") -> Path:
    path = directory / name
    path.write_text(text)
    return path
