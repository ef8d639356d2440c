"""Resolwe's storage connectors: a local directory, S3 and GCS behind one interface.

:func:`build_connectors` takes Resolwe's ``STORAGE_CONNECTORS`` setting as it is, so a site's
settings name Resolwe's class paths (``resolwe.storage.connectors.s3connector.AwsS3Connector``)
or ours; both map to the same classes. The package imports no Django: the storage manager, the
flows and the tests build connectors from plain dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from resolwe_prefect.storage.connectors.base import ConnectorConfigError, ConnectorError, StorageConnector
from resolwe_prefect.storage.connectors.gcs import GoogleConnector
from resolwe_prefect.storage.connectors.local import LocalFilesystemConnector
from resolwe_prefect.storage.connectors.s3 import AwsS3Connector

__all__ = [
    "CONNECTOR_CLASSES",
    "AwsS3Connector",
    "ConnectorConfigError",
    "ConnectorError",
    "GoogleConnector",
    "LocalFilesystemConnector",
    "StorageConnector",
    "build_connector",
    "build_connectors",
]

CONNECTOR_CLASSES: dict[str, type[StorageConnector]] = {
    "resolwe.storage.connectors.localconnector.LocalFilesystemConnector": LocalFilesystemConnector,
    "resolwe.storage.connectors.s3connector.AwsS3Connector": AwsS3Connector,
    "resolwe.storage.connectors.googleconnector.GoogleConnector": GoogleConnector,
    "resolwe_prefect.storage.connectors.local.LocalFilesystemConnector": LocalFilesystemConnector,
    "resolwe_prefect.storage.connectors.s3.AwsS3Connector": AwsS3Connector,
    "resolwe_prefect.storage.connectors.gcs.GoogleConnector": GoogleConnector,
}


def build_connector(name: str, entry: Mapping[str, Any]) -> StorageConnector:
    """One connector from its ``{"connector": class path, "config": {...}}`` entry."""
    if not isinstance(entry, Mapping):
        raise ConnectorConfigError(
            f"Storage connector {name!r}: its entry must be a dict with 'connector' and 'config'."
        )
    class_path = entry.get("connector")
    if not class_path:
        raise ConnectorConfigError(f"Storage connector {name!r}: config key 'connector' is required.")
    connector_class = CONNECTOR_CLASSES.get(str(class_path))
    if connector_class is None:
        known = ", ".join(sorted(CONNECTOR_CLASSES))
        raise ConnectorConfigError(
            f"Storage connector {name!r}: unknown connector class {class_path!r} (known: {known})."
        )
    config = entry.get("config") or {}
    if not isinstance(config, Mapping):
        raise ConnectorConfigError(f"Storage connector {name!r}: 'config' must be a dict.")
    return connector_class(dict(config), name)


def build_connectors(storage_connectors: dict) -> dict[str, StorageConnector]:
    """Every connector of Resolwe's ``STORAGE_CONNECTORS`` setting, by name.

    Nothing is contacted: clients are made on first use, so a store that is down does not keep
    the site from starting. A wrong entry is a :class:`ConnectorConfigError` naming it.
    """
    return {str(name): build_connector(str(name), entry) for name, entry in (storage_connectors or {}).items()}
