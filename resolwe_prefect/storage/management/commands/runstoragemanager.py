"""``runstoragemanager``: one synchronous pass of the storage manager (record, then copy by the rules)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from resolwe_prefect.storage.manager import run_manager


class Command(BaseCommand):
    help = "Record unrecorded Data files and copy them to connectors by their copy rules (one pass)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = run_manager()
        for line in report.lines():
            self.stdout.write(line)
        if report.failed:
            self.stderr.write(f"{len(report.failed)} operation(s) failed; the next pass retries them.")
