"""Reading a corpus directory: cases, process definitions by slug, descriptor schemas by slug."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml


@dataclass
class Corpus:
    root: Path
    cases: list[dict] = field(default_factory=list)
    processes: dict[str, list[dict]] = field(default_factory=dict)  # slug -> entries (file name order, file order)
    descriptors: dict[str, list[dict]] = field(default_factory=dict)
    python_slugs: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, root: Path) -> Corpus:
        root = Path(root).resolve()
        corpus = cls(root)
        for path in sorted((root / "cases").glob("*.yaml")):
            document = yaml.safe_load(path.read_text()) or {}
            for case in document.get("cases") or []:
                case.setdefault("_file", path.name)
                corpus.cases.append(case)
        for path in sorted((root / "processes").glob("*.yml")):
            for entry in yaml.safe_load(path.read_text()) or []:
                corpus.processes.setdefault(str(entry.get("slug")), []).append(entry)
        for path in sorted((root / "processes" / "python").glob("*.py")):
            for line in path.read_text().splitlines():
                stripped = line.strip()
                if stripped.startswith("slug = "):
                    corpus.python_slugs.add(stripped.split("=", 1)[1].strip().strip("\"'"))
        for path in sorted((root / "descriptors").glob("*.yml")):
            for entry in yaml.safe_load(path.read_text()) or []:
                corpus.descriptors.setdefault(str(entry.get("slug")), []).append(entry)
        return corpus

    def process_entries(self, slugs: list[str]) -> list[dict]:
        """Every definition of every slug, slug by slug, each in corpus order."""
        entries = []
        for slug in slugs:
            if slug not in self.processes:
                where = " (only as a Python process)" if slug in self.python_slugs else ""
                raise AssertionError(f"process {slug!r} is not defined in processes/*.yml{where}")
            entries.extend(self.processes[slug])
        return entries

    def descriptor_entries(self, slugs: list[str]) -> list[dict]:
        entries = []
        for slug in slugs:
            if slug not in self.descriptors:
                raise AssertionError(f"descriptor schema {slug!r} is not defined in descriptors/*.yml")
            entries.extend(self.descriptors[slug])
        return entries


def write_yaml(path: Path, entries: list[dict]) -> Path:
    path.write_text(yaml.safe_dump(entries, sort_keys=False, allow_unicode=True, width=10**6) if entries else "")
    return path


def select(cases: list[dict], patterns: list[str] | None) -> list[dict]:
    if not patterns:
        return cases
    return [c for c in cases if any(c["id"] == p or c["id"].startswith(p) for p in patterns)]
