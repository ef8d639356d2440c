"""Runtime utilities of bash processes (the ``re-*`` commands) and their reports.

* ``bin/``        POSIX shell scripts put on PATH of every bash program
* ``preamble``    the bash text prepended to programs (``set -x +B``, PATH, ``re-checkrc``)
* ``commands``    the record format and the incremental reader
* ``report``      Resolwe semantics of the reports (:class:`ProcessReport`)
* ``collect``     the final output check, sizes and purge (:func:`collect_outputs`)
"""

from .collect import CollectResult, collect_outputs, stage_exports
from .commands import ENV_VAR, Command, CommandReader
from .preamble import bin_dir, ensure_executable, program_preamble
from .report import ProcessReport

__all__ = [
    "ENV_VAR",
    "CollectResult",
    "Command",
    "CommandReader",
    "ProcessReport",
    "bin_dir",
    "collect_outputs",
    "ensure_executable",
    "program_preamble",
    "stage_exports",
]
