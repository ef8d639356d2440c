"""The ``resolwe-prefect`` console script.

``manage`` runs any Django management command; ``up``, ``worker`` and
``demo`` start the embedded stack, the Prefect-side executor and the example
pipeline.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_project.settings")
    import django

    django.setup()


def _subcommands() -> dict[str, Callable[[list[str]], int]]:
    from .demo import demo
    from .stack import pools, up, worker

    return {"demo": demo, "pools": pools, "up": up, "worker": worker}


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a subcommand; ``manage`` passes everything after it to Django."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__.strip())
        print("\nusage: resolwe-prefect {manage,up,worker,demo} ...")
        return 0
    command, rest = argv[0], argv[1:]
    if command == "manage":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_project.settings")
        from django.core.management import execute_from_command_line

        execute_from_command_line(["resolwe-prefect manage", *rest])
        return 0
    handler = _subcommands().get(command.replace("-", "_"))
    if handler is None:
        print(f"resolwe-prefect: unknown command {command!r}", file=sys.stderr)
        return 2
    return int(handler(rest) or 0)
