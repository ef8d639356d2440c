"""``runstoragecleanup``: one synchronous pass of the cleanup (delete copies by the rules)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from resolwe_prefect.storage.manager import run_cleanup


class Command(BaseCommand):
    help = "Delete copies of Data files that their connectors' delete rules allow (one pass)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = run_cleanup()
        for line in report.lines():
            self.stdout.write(line)
        if report.failed:
            self.stderr.write(f"{len(report.failed)} operation(s) failed; the next pass retries them.")
