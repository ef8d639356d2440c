"""Where a Data object's files live on our side: the one definition of the directory layout.

``<DATA_DIR>/<id>``     the Data object's files (its program's working directory)
``<STATE>/runtime/<id>`` our side of its run: script, commands file, temp files, staged uploads,
                        secrets, the identity files; never part of the Data object's files

The API, the flow run and the backends all ask here, so the layout can change in one place.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def data_root() -> Path:
    """The directory that holds every Data object's directory."""
    return Path(settings.FLOW_EXECUTOR["DATA_DIR"])


def data_dir(data_id: int) -> Path:
    """A Data object's own directory."""
    return data_root() / str(int(data_id))


def runtime_dir(data_id: int) -> Path:
    """Our side of a Data object's run, removed together with the Data object."""
    return Path(settings.STATE_DIR) / "runtime" / str(int(data_id))
