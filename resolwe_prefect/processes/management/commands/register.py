"""``register``: Resolwe's command for loading process and descriptor-schema definitions.

Processes come from YAML files and from Python files, which are read
statically (``python_definitions``: never imported or executed); descriptor
schemas from YAML files. Descriptor schemas are registered first (processes
may name them in ``entity``), then processes in the given order, then
``--retire`` runs. Messages follow Resolwe; rejected definitions, and Python
files or classes that cannot be read, are reported on stderr (file, class,
slug, reasons) but, as in Resolwe, do not make the command fail and do not
stop the others. ``--json`` prints the outcomes as one JSON list instead.
``--slug`` keeps only the processes with the given slugs (the conformance
runner registers single processes out of a Python file that holds many).
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from resolwe_prefect.processes.registration import (
    INSERTED,
    REJECTED,
    UPDATED,
    Outcome,
    load_entries,
    register_descriptor_schemas,
    register_processes,
    retained_slugs,
    retire_processes,
)


class Command(BaseCommand):
    help = "Register processes (YAML and Python files) and descriptor schemas (YAML)."

    def add_arguments(self, parser):
        parser.add_argument("-f", "--force", action="store_true", help="overwrite definitions of the same version")
        parser.add_argument("--retire", action="store_true", help="retire processes absent from the definitions")
        parser.add_argument(
            "--path",
            action="append",
            default=[],
            type=Path,
            help="directory with process definitions (repeatable; default: settings.FLOW_PROCESSES_DIRS)",
        )
        parser.add_argument(
            "--file", action="append", default=[], type=Path, help="process definition file (repeatable)"
        )
        parser.add_argument(
            "--descriptor-path",
            action="append",
            default=[],
            type=Path,
            help="directory with descriptor schemas (repeatable; default: settings.FLOW_DESCRIPTORS_DIRS)",
        )
        parser.add_argument(
            "--descriptor-file", action="append", default=[], type=Path, help="descriptor schema file (repeatable)"
        )
        parser.add_argument(
            "--slug",
            action="append",
            default=[],
            help="register only the processes with this slug (repeatable; unreadable files are still reported)",
        )
        parser.add_argument("--json", action="store_true", help="print the outcomes as a JSON list")

    def handle(self, *args, **options):
        user = self._admin()
        process_paths = [*options["path"], *options["file"]]
        if not process_paths:
            process_paths = [Path(p) for p in getattr(settings, "FLOW_PROCESSES_DIRS", [])]
        descriptor_paths = [*options["descriptor_path"], *options["descriptor_file"]]
        if not descriptor_paths:
            descriptor_paths = [Path(p) for p in getattr(settings, "FLOW_DESCRIPTORS_DIRS", [])]
        # Like Resolwe, a configured directory that does not exist is not an error.
        process_paths = [p for p in process_paths if p.exists() or p in options["file"]]
        descriptor_paths = [p for p in descriptor_paths if p.exists() or p in options["descriptor_file"]]

        descriptor_outcomes = register_descriptor_schemas(descriptor_paths, user=user, force=options["force"])
        entries, failures = load_entries(process_paths, kind="process")
        if options["slug"]:
            wanted = set(options["slug"])
            entries = [(path, raw) for path, raw in entries if raw.get("slug") in wanted]
            failures = [o for o in failures if not o.slug or o.slug in wanted]
        process_outcomes = failures + register_processes([], user=user, force=options["force"], definitions=entries)
        retired: list[str] = []
        if options["retire"]:
            keep = retained_slugs(entries, failures)
            if keep is None:
                self.stderr.write("Retire skipped: some definition files could not be read.")
            else:
                retired = retire_processes(keep)

        if options["json"]:
            self._report_rejected(descriptor_outcomes + process_outcomes)
            self.stdout.write(json.dumps([o.to_dict() for o in descriptor_outcomes + process_outcomes], indent=2))
            return
        if options["verbosity"] == 0:
            self._report_rejected(descriptor_outcomes + process_outcomes)
            return
        self._report("Descriptor schemas Updates:", descriptor_outcomes)
        self._report("Processor Updates:", process_outcomes)
        if retired:
            self.stdout.write("Retired processes:")
            for message in retired:
                self.stdout.write(f"  {message}")

    def _admin(self):
        """The first superuser becomes the contributor; one named ``admin`` is created if there is none."""
        User = get_user_model()
        user = User.objects.filter(is_superuser=True).order_by("date_joined", "pk").first()
        if user is None:
            user = User.objects.create_superuser(username="admin", email="admin@localhost", password=None)
            self.stderr.write("Admin does not exist: created superuser 'admin'")
        return user

    def _report(self, title: str, outcomes: list[Outcome]) -> None:
        """Skips and rejections as they happen (Resolwe prints them inline), then the updates block."""
        for outcome in outcomes:
            if outcome.outcome == REJECTED:
                self._report_rejected([outcome])
                continue
            lines = outcome.message.split("\n")
            # The last line of an insert/update goes to the updates block below.
            for line in lines[:-1] if outcome.outcome in (INSERTED, UPDATED) else lines:
                (self.stderr if "newer version installed" in line else self.stdout).write(line)
        updates = [o.message.split("\n")[-1] for o in outcomes if o.outcome in (INSERTED, UPDATED)]
        if updates:
            self.stdout.write(title)
            for line in updates:
                self.stdout.write(f"  {line}")

    def _report_rejected(self, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            if outcome.outcome != REJECTED:
                continue
            header = outcome.message.split("\n")[0]
            self.stderr.write(f"    {header}" if header.startswith("VALIDATION ERROR") else f"    ERROR: {header}")
            self.stderr.write(f"        file:       {outcome.file}")
            if outcome.python_class:
                self.stderr.write(f"        class:      {outcome.python_class}")
            self.stderr.write(f"        slug:       {outcome.slug}")
            for reason in outcome.errors:
                self.stderr.write(f"        reason:     {reason}")
