"""Reading a corpus directory: cases, process definitions by slug, descriptor schemas by slug."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import yaml


@dataclass
class Corpus:
    root: Path
    cases: list[dict] = field(default_factory=list)
    processes: dict[str, list[dict]] = field(default_factory=dict)  # slug -> entries (file name order, file order)
    descriptors: dict[str, list[dict]] = field(default_factory=dict)
    python_files: dict[str, list[Path]] = field(default_factory=dict)  # slug -> processes/python/*.py (name order)

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
            for slug in python_slugs(path):
                corpus.python_files.setdefault(slug, []).append(path)
        for path in sorted((root / "descriptors").glob("*.yml")):
            for entry in yaml.safe_load(path.read_text()) or []:
                corpus.descriptors.setdefault(str(entry.get("slug")), []).append(entry)
        return corpus

    def process_selection(self, slugs: list[str]) -> tuple[list[dict], list[Path]]:
        """What `register.processes` names (README "Process lookup").

        Every YAML definition of every slug, slug by slug, each in corpus order, and the Python
        files that define any of the slugs, in name order (registered after the YAML).
        """
        entries: list[dict] = []
        files: set[Path] = set()
        for slug in slugs:
            if slug not in self.processes and slug not in self.python_files:
                raise AssertionError(
                    f"process {slug!r} is defined neither in processes/*.yml nor in processes/python/*.py"
                )
            entries.extend(self.processes.get(slug, []))
            files.update(self.python_files.get(slug, []))
        return entries, sorted(files)

    def file_slugs(self, path: Path) -> set[str]:
        """The process slugs a definition file under processes/ defines (YAML or Python)."""
        if path.suffix == ".py":
            return python_slugs(path)
        return {str(entry.get("slug")) for entry in yaml.safe_load(path.read_text()) or [] if isinstance(entry, dict)}

    def descriptor_entries(self, slugs: list[str]) -> list[dict]:
        entries = []
        for slug in slugs:
            if slug not in self.descriptors:
                raise AssertionError(f"descriptor schema {slug!r} is not defined in descriptors/*.yml")
            entries.extend(self.descriptors[slug])
        return entries


def python_slugs(path: Path) -> set[str]:
    """Slugs of the classes of a Python process file: a top-level class assigning a string `slug`.

    Deliberately simpler than the implementation's parser, so that the runner decides on its own
    which files to register.
    """
    slugs = set()
    for node in ast.parse(path.read_text()).body:
        if not isinstance(node, ast.ClassDef):
            continue
        for statement in node.body:
            if (
                isinstance(statement, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "slug" for t in statement.targets)
                and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str)
            ):
                slugs.add(statement.value.value)
    return slugs


def write_yaml(path: Path, entries: list[dict]) -> Path:
    path.write_text(yaml.safe_dump(entries, sort_keys=False, allow_unicode=True, width=10**6) if entries else "")
    return path


def select(cases: list[dict], patterns: list[str] | None) -> list[dict]:
    if not patterns:
        return cases
    return [c for c in cases if any(c["id"] == p or c["id"].startswith(p) for p in patterns)]
