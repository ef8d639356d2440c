"""The site's storage connectors and their rules, from Resolwe's settings.

``STORAGE_CONNECTORS`` (Resolwe's shape: ``{name: {"connector": class path, "config": {...}}}``)
and ``STORAGE_LOCAL_CONNECTOR`` (default ``"local"``). Without ``STORAGE_CONNECTORS`` there is one
local connector on ``FLOW_EXECUTOR["DATA_DIR"]``; a configured one without a local connector
gets it added, since every Data object is written locally first.

Rules live in a connector's config: ``copy`` (copy a Data object's files there ``delay`` days
after they were recorded) and ``delete`` (delete the copy there ``delay`` days after its last
update, when ``min_other_copies`` other complete copies exist), each with overrides by
``data_slug`` (exact) and ``process_type`` (the longest matching type prefix), as Resolwe's.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from resolwe_prefect.data import layout
from resolwe_prefect.storage.connectors import StorageConnector, build_connectors

LOCAL_CLASS = "resolwe.storage.connectors.localconnector.LocalFilesystemConnector"
DEFAULT_PRIORITY = 100
DEFAULT_MIN_OTHER_COPIES = 1


@dataclass(frozen=True)
class Rule:
    """A copy or delete rule as it applies to one Data object."""

    delay_days: float
    min_other_copies: int = DEFAULT_MIN_OTHER_COPIES


def local_connector_name() -> str:
    return str(getattr(settings, "STORAGE_LOCAL_CONNECTOR", None) or "local")


def _configured() -> dict[str, Any]:
    configured = dict(getattr(settings, "STORAGE_CONNECTORS", None) or {})
    local = local_connector_name()
    if local not in configured:
        configured[local] = {"connector": LOCAL_CLASS, "config": {"priority": 0}}
    entry = dict(configured[local])
    config = dict(entry.get("config") or {})
    config.setdefault("path", str(layout.data_root()))
    configured[local] = {**entry, "config": config}
    return configured


@functools.lru_cache(maxsize=4)
def _build(serialized: str) -> dict[str, StorageConnector]:
    return build_connectors(json.loads(serialized))


def connectors() -> dict[str, StorageConnector]:
    """Every configured connector by name (built once per configuration)."""
    return _build(json.dumps(_configured(), sort_keys=True, default=str))


def connector(name: str) -> StorageConnector:
    return connectors()[name]


def local_connector() -> StorageConnector:
    return connector(local_connector_name())


def object_storage_configured() -> bool:
    """Whether any connector besides the local one exists (staging and copying have work to do)."""
    return len(connectors()) > 1


def local_is_scratch() -> bool:
    """Whether this host's Data directories are a flow run's scratch workspace (``STORAGE_LOCAL_SCRATCH``).

    Without a volume that every worker and the API share (Kubernetes without ReadWriteMany), a
    flow run stages its inputs from object storage and publishes its results there before its
    Data object finishes; nothing records a copy on a disk that goes with the pod.
    """
    if not getattr(settings, "STORAGE_LOCAL_SCRATCH", False):
        return False
    if not object_storage_configured():
        raise ImproperlyConfigured(
            "STORAGE_LOCAL_SCRATCH needs an object-storage connector in STORAGE_CONNECTORS: "
            "the results of a flow run on a scratch workspace must be kept somewhere else."
        )
    return True


def publish_connector_name() -> str:
    """The object-storage connector a scratch workspace publishes results to: the lowest priority number."""
    others = [found for name, found in connectors().items() if name != local_connector_name()]
    if not others:
        raise ImproperlyConfigured("No object-storage connector is configured in STORAGE_CONNECTORS.")
    return min(others, key=lambda found: found.priority).name


def priority(name: str) -> int:
    found = connectors().get(name)
    return found.priority if found is not None else DEFAULT_PRIORITY


def rule(connector_name: str, kind: str, data_slug: str | None, process_type: str | None) -> Rule | None:
    """The ``copy`` or ``delete`` rule of a connector for one Data object; ``None`` when it has none."""
    config = (_configured().get(connector_name) or {}).get("config") or {}
    base = config.get(kind)
    if not isinstance(base, dict):
        return None
    chosen = dict(base)
    by_type = base.get("process_type") or {}
    matches = [prefix for prefix in by_type if process_type and process_type.startswith(prefix)]
    if matches:
        chosen.update(by_type[max(matches, key=len)])
    by_slug = base.get("data_slug") or {}
    if data_slug and data_slug in by_slug:
        chosen.update(by_slug[data_slug])
    return Rule(
        delay_days=float(chosen.get("delay", 0) or 0),
        min_other_copies=int(chosen.get("min_other_copies", DEFAULT_MIN_OTHER_COPIES)),
    )
