"""``manage collecttools``: gather every tools directory into ``FLOW_TOOLS_ROOT``, as Resolwe's command does.

Programs in pods reach tools only from the shared volume, so a cluster sets ``FLOW_TOOLS_ROOT`` on
it and runs this after installing or upgrading an app; each source (an app's ``tools/``, each
``RESOLWE_CUSTOM_TOOLS_PATHS`` entry) becomes one subdirectory, ``<n>-<name>``, and the backends
put those subdirectories on the program's ``PATH`` in that order.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from resolwe_prefect.execution.backends.tools import source_tools_dirs


def _readable_and_runnable(root: Path) -> None:
    """Every program's uid may read the tools, and run the scripts among them.

    A pip-installed app's ``tools/`` loses its executable bits (wheels keep no modes), while its
    processes call the scripts by name; a file that starts with ``#!`` is a script.
    """
    root.chmod(0o755)
    for path in root.rglob("*"):
        if path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(0o755)
            continue
        with path.open("rb") as handle:
            script = handle.read(2) == b"#!"
        path.chmod(0o755 if script else 0o644)


class Command(BaseCommand):
    help = "Copy every app's tools/ directory and RESOLWE_CUSTOM_TOOLS_PATHS into FLOW_TOOLS_ROOT."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--clear", action="store_true", help="remove what FLOW_TOOLS_ROOT holds first")

    def handle(self, *args, clear: bool = False, **options) -> None:
        root = getattr(settings, "FLOW_TOOLS_ROOT", None)
        if not root:
            raise CommandError("FLOW_TOOLS_ROOT is not set: there is nowhere to collect the tools to.")
        target = Path(root)
        sources = source_tools_dirs()
        if clear and target.exists():
            for child in target.iterdir():
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        target.mkdir(parents=True, exist_ok=True)
        for index, source in enumerate(sources):
            name = source.parent.name if source.name == "tools" else source.name  # an app's tools/: the app
            destination = target / f"{index:02d}-{name}"
            shutil.copytree(source, destination, symlinks=True, dirs_exist_ok=True)
            _readable_and_runnable(destination)
            self.stdout.write(f"{source} -> {destination}")
        self.stdout.write(f"{len(sources)} tools directories in {target}")
