"""The bash text prepended to every bash process program.

Resolwe runs programs with ``bash --login`` after ``set -x +B`` (trace, no
brace expansion) and WITHOUT ``set -e``: a failing command in the middle does
not stop the script, only the exit status and the ``re-*`` reports count.
``re-checkrc`` is a shell function so that it sees the previous command's
``$?``::

    re-checkrc() { _re-checkrc $? "$@"; }

``re-import`` is a shell function too, around the ``re-import`` executable, so
that it can do what Resolwe's does in the program's own shell: export ``NAME``
(the imported file's name without its format and compression suffix, which
the executable writes to file descriptor 3) and end the program when the
import fails.

The runner must also export ``RESOLWE_COMMANDS_FILE`` (see ``commands.py``).
"""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path

_BIN_DIR = Path(__file__).resolve().parent / "bin"

__all__ = ["bin_dir", "ensure_executable", "program_preamble", "UTILITIES"]

#: The executables in ``bin/`` (``_re_lib.sh`` is sourced, not executed).
UTILITIES = (
    "re-save",
    "re-save-list",
    "re-save-file",
    "re-save-file-list",
    "re-save-dir",
    "re-save-dir-list",
    "re-progress",
    "_re-checkrc",
    "re-error",
    "re-warning",
    "re-info",
    "re-annotate-entity",
    "re-export",
    "re-run",
    "re-import",
)


def bin_dir() -> str:
    """Absolute path of the directory with the ``re-*`` scripts."""
    return str(_BIN_DIR)


def ensure_executable() -> None:
    """Make the scripts executable (installs and copies may drop the mode)."""
    for name in UTILITIES:
        path = _BIN_DIR / name
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            continue
        wanted = mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
        if mode != wanted:
            try:
                os.chmod(path, wanted)
            except PermissionError:
                pass


#: Resolwe's ``re-import`` as a function: NAME comes back on fd 3, stdout stays the program's.
_IMPORT_FUNCTION = (
    're-import() { local _re_name _re_rc; { _re_name=$(command re-import "$@" 3>&1 1>&4 4>&-); _re_rc=$?; } 4>&1; '
    '[ "$_re_rc" -eq 0 ] || exit "$_re_rc"; export NAME="$_re_name"; }'
)


def program_preamble(bin_dir: str) -> str:
    """Bash text to put before the program (ends with a newline)."""
    return (
        f'set -x +B\nexport PATH={shlex.quote(str(bin_dir))}:"$PATH"\n'
        're-checkrc() { _re-checkrc $? "$@"; }\n'
        f"{_IMPORT_FUNCTION}\n"
    )
