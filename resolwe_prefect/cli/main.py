"""The ``resolwe-prefect`` console script.

``manage`` runs any Django management command; ``up``, ``worker`` and
``demo`` start the embedded stack, the Prefect-side executor and the example
pipeline.
"""

from __future__ import annotations

import os
import sys


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_project.settings")
    import django

    django.setup()


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
    from resolwe_prefect import commands

    handler = getattr(commands, command.replace("-", "_"), None)
    if handler is None:
        print(f"resolwe-prefect: unknown command {command!r}", file=sys.stderr)
        return 2
    return int(handler(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
