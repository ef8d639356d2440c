"""Output collection over a Data directory a hostile program prepared (issue 14, finding 4).

The worker collects as root: outputs, refs, ``basic:json`` files and
``re-export``-ed files that are links leading out of the data directory
(to a server file, or to another Data object's directory beside it) must
count as missing and never be read; a FIFO must never block; the final
``jsonout.txt`` must not be written through a link the program left.
Links that stay inside the data directory remain allowed.
"""

from __future__ import annotations

import json
import os
import signal
import stat
from contextlib import contextmanager
from pathlib import Path

import pytest

from resolwe_prefect.runtime import ProcessReport, collect_outputs, stage_exports

SECRET = '{"password": "hunter2-SECRET"}'


class Blocked(Exception):
    """Not an OSError: code under test that swallows OSError must not swallow the deadline."""


@contextmanager
def deadline(seconds: float):
    """Fail instead of hanging (a FIFO opened for reading or writing blocks until the other side comes)."""

    def expire(signum, frame):
        raise Blocked(f"blocked for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def layout(tmp_path) -> tuple[Path, Path, Path]:
    """``<tmp>/data/<id>`` (the run's directory), ``<tmp>/data/other/secret.json`` and ``<tmp>/server/secret.json``."""
    data_dir = tmp_path / "data" / "7"
    data_dir.mkdir(parents=True)
    (tmp_path / "data" / "other").mkdir()
    other = tmp_path / "data" / "other" / "secret.json"
    other.write_text(SECRET)
    (tmp_path / "server").mkdir()
    server = tmp_path / "server" / "secret.json"
    server.write_text(SECRET)
    (tmp_path / "server" / "big.bin").write_bytes(b"x" * 100_000)
    return data_dir, other, server


def collect(data_dir: Path, output: dict, schema: list[dict]):
    with deadline(10):
        return collect_outputs(ProcessReport(output=output), output_schema=schema, data_dir=data_dir, return_code=0)


def test_outputs_and_refs_leading_out_are_missing(layout, tmp_path):
    data_dir, other, server = layout
    (data_dir / "abs").symlink_to(server)
    (data_dir / "sibling").symlink_to("../other/secret.json")
    (data_dir / "hop").symlink_to("sibling")  # a chain that ends outside
    (data_dir / "outdir").symlink_to(tmp_path / "server")
    (data_dir / "real.txt").write_text("mine")
    (data_dir / "inside").symlink_to("real.txt")  # stays inside: allowed
    (data_dir / "d").mkdir()
    (data_dir / "d" / "big").symlink_to(tmp_path / "server" / "big.bin")
    (data_dir / "d" / "own.txt").write_text("12345")
    schema = [{"name": n, "type": t} for n, t in [
        ("f1", "basic:file:"), ("f2", "basic:file:"), ("f3", "basic:file:"), ("f4", "basic:file:"),
        ("dd", "basic:dir:"), ("ok", "basic:file:"), ("tree", "basic:dir:"),
    ]]  # fmt: skip
    output = {
        "f1": {"file": "abs"}, "f2": {"file": "sibling"}, "f3": {"file": "hop"}, "f4": {"file": "outdir/secret.json"},
        "dd": {"dir": "outdir"}, "ok": {"file": "inside", "refs": ["abs", "real.txt"]}, "tree": {"dir": "d"},
    }  # fmt: skip
    result = collect(data_dir, output, schema)
    assert result.errors == [
        "Output 'f1' set to a missing file: 'abs'.",
        "Output 'f2' set to a missing file: 'sibling'.",
        "Output 'f3' set to a missing file: 'hop'.",
        "Output 'f4' set to a missing file: 'outdir/secret.json'.",
        "Output 'dd' set to a missing directory: 'outdir'.",
        "Output 'ok' set to missing references: 'abs'.",
    ]
    assert result.output["tree"]["size"] < 1000  # the link's own size, not the 100 kB it points to
    assert server.read_text() == SECRET and other.read_text() == SECRET


def test_json_output_never_reads_a_link_out_or_a_fifo(layout):
    data_dir, other, server = layout
    (data_dir / "abs.json").symlink_to(server)
    (data_dir / "sibling.json").symlink_to("../other/secret.json")
    os.mkfifo(data_dir / "fifo.json")
    (data_dir / "to-fifo.json").symlink_to("fifo.json")
    (data_dir / "own.json").write_text('{"a": 1}')
    (data_dir / "inside.json").symlink_to("own.json")
    names = ["abs", "sibling", "fifo", "to_fifo", "own", "inside"]
    schema = [{"name": n, "type": "basic:json:"} for n in names]
    output = {n: f"{n.replace('_', '-')}.json" for n in names}
    result = collect(data_dir, output, schema)
    assert "hunter2" not in json.dumps(result.output) + json.dumps(result.errors)
    assert result.output["own"] == result.output["inside"] == {"a": 1}
    assert result.output["abs"] == "abs.json" and result.output["sibling"] == "sibling.json"


@pytest.mark.parametrize("planted", ["link-to-server", "link-to-sibling", "fifo"])
def test_jsonout_is_never_written_through_what_the_program_left(layout, planted):
    data_dir, other, server = layout
    if planted == "fifo":
        os.mkfifo(data_dir / "jsonout.txt")
    else:
        (data_dir / "jsonout.txt").symlink_to(server if planted == "link-to-server" else Path("../other/secret.json"))
    result = collect(data_dir, {"x": "1"}, [{"name": "x", "type": "basic:string:"}])
    assert server.read_text() == SECRET and other.read_text() == SECRET
    assert stat.S_ISREG((data_dir / "jsonout.txt").lstat().st_mode)  # (reading a FIFO would block)
    assert json.loads((data_dir / "jsonout.txt").read_text()) == {"x": "1"} == result.output


def test_exports_of_links_out_and_fifos_are_not_staged(layout, tmp_path):
    """A spawned child would upload an exported file: a link to a server file must not become one."""
    data_dir, other, server = layout
    (data_dir / "abs.txt").symlink_to(server)
    (data_dir / "sibling.txt").symlink_to("../other/secret.json")
    (data_dir / "lnk").symlink_to(tmp_path / "server")
    os.mkfifo(data_dir / "fifo")
    (data_dir / "mine.txt").write_text("mine")
    (data_dir / "alias.txt").symlink_to("mine.txt")
    exports = ["abs.txt", "sibling.txt", "lnk/secret.json", "fifo", "mine.txt", "alias.txt"]
    with deadline(10):
        mapper = stage_exports(ProcessReport(exports=exports), data_dir, tmp_path / "staged")
    assert sorted(mapper) == ["alias.txt", "mine.txt"]
    assert {Path(p).read_text() for p in mapper.values()} == {"mine"}
    for staged in (tmp_path / "staged").iterdir():
        assert "hunter2" not in staged.read_text()
