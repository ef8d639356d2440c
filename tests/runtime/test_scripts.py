"""The re-* shell scripts: POSIX, record format, filesystem checks."""

from __future__ import annotations

import gzip
import os
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest

from resolwe_prefect.runtime import Command, CommandReader, bin_dir, ensure_executable
from resolwe_prefect.runtime.preamble import UTILITIES

from . import SHELLS

BIN = Path(bin_dir())


def call(shell: str, utility: str, *args: str, cwd: Path, commands: Path, env=None):
    """Run one utility with an explicit shell (dash, sh, bash)."""
    ensure_executable()
    full_env = {"PATH": f"{BIN}:/usr/bin:/bin", "RESOLWE_COMMANDS_FILE": str(commands)}
    full_env.update(env or {})
    proc = subprocess.run(
        [shell, str(BIN / utility), *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc


@pytest.fixture
def work(tmp_path):
    cwd = tmp_path / "work"
    cwd.mkdir()
    return cwd, tmp_path / "commands.bin"


def records(path: Path) -> list[Command]:
    return CommandReader(path).read_new()


def test_all_utilities_present_and_executable():
    ensure_executable()
    for name in UTILITIES:
        path = BIN / name
        assert path.is_file(), name
        assert path.stat().st_mode & stat.S_IXUSR, name
        assert path.read_text().startswith("#!/bin/sh\n")


def test_scripts_are_posix():
    """No bashisms: dash parses every script; no python/jq is used."""
    dash = shutil.which("dash")
    for path in [*BIN.iterdir()]:
        if dash:
            subprocess.run([dash, "-n", str(path)], check=True)
        text = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("#"))
        for forbidden in ("jq ", "[[ ", "local ", "function ", "$'", "<<<"):
            assert forbidden not in text, (path.name, forbidden)
        if path.name != "re-import":  # python3 only as an optional unzip fallback
            assert "python" not in text, path.name


@pytest.mark.parametrize("shell", SHELLS)
def test_arguments_survive_verbatim(shell, work):
    cwd, commands = work
    nasty = 'line1\nline2 "quoted" \'single\' $HOME `x` \\n {"a": [1, 2]} %s %d \\0 -- -n'
    proc = call(shell, "re-save", "key", nasty, cwd=cwd, commands=commands)
    assert proc.returncode == 0, proc.stderr
    call(shell, "re-save-list", "k", "", "-e", "%b", cwd=cwd, commands=commands)
    call(shell, "re-info", "ünïcödé ✓", cwd=cwd, commands=commands)
    call(shell, "re-save-list", "empty", cwd=cwd, commands=commands)
    assert records(commands) == [
        Command("save", ("key", nasty)),
        Command("save-list", ("k", "", "-e", "%b")),
        Command("info", ("ünïcödé ✓",)),
        Command("save-list", ("empty",)),
    ]


@pytest.mark.parametrize("shell", SHELLS)
def test_raw_format(shell, work):
    cwd, commands = work
    call(shell, "re-warning", "a\nb", cwd=cwd, commands=commands)
    assert commands.read_bytes() == b"RE1\x001\x00warning\x00a\nb\x00\n"
    assert not Path(str(commands) + ".lock").exists()


@pytest.mark.parametrize("shell", SHELLS)
def test_file_checks(shell, work):
    cwd, commands = work
    (cwd / "f").write_text("x")
    (cwd / "d").mkdir()
    (cwd / "r1").write_text("r")
    call(shell, "re-save-file", "out", "f", "r1", "d", cwd=cwd, commands=commands)
    call(shell, "re-save-file", "out", "nope.zip", cwd=cwd, commands=commands)
    call(shell, "re-save-file", "out", "f", "r1", "m1", "m2", cwd=cwd, commands=commands)
    call(shell, "re-save-dir", "dd", "d", cwd=cwd, commands=commands)
    call(shell, "re-save-dir", "dd", "f", cwd=cwd, commands=commands)
    call(shell, "re-save-file-list", "l", "f:r1, d", "f", cwd=cwd, commands=commands)
    call(shell, "re-save-file-list", "l", "f:r1,gone", cwd=cwd, commands=commands)
    call(shell, "re-save-file-list", "l", "f:a:b", cwd=cwd, commands=commands)
    call(shell, "re-save-dir-list", "l", "d:f", "missing", cwd=cwd, commands=commands)
    call(shell, "re-export", "gone", cwd=cwd, commands=commands)
    call(shell, "re-export", "f", cwd=cwd, commands=commands)
    assert records(commands) == [
        Command("save-file", ("out", "f", "r1", "d")),
        Command("error", ("Output 'out' set to a missing file: 'nope.zip'.",)),
        Command("error", ("Output 'out' set to missing references: 'm1, m2'.",)),
        Command("save-dir", ("dd", "d")),
        Command("error", ("Output 'dd' set to a missing directory: 'f'.",)),
        Command("save-file-list", ("l", "f:r1, d", "f")),
        Command("error", ("Output 'l' set to missing references: 'gone'.",)),
        Command("error", ("Only one colon ':' allowed in file-refs specification.",)),
        Command("error", ("Output 'l' set to a missing directory: 'missing'.",)),
        Command("error", ("Referenced file does not exist: 'gone'.",)),
        Command("export", ("f",)),
    ]


@pytest.mark.parametrize("shell", SHELLS)
def test_missing_commands_file_is_reported_not_fatal(shell, work):
    cwd, _ = work
    proc = subprocess.run(
        [shell, str(BIN / "re-info"), "x"],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "RESOLWE_COMMANDS_FILE" in proc.stderr


def test_concurrent_writers_do_not_interleave(work):
    cwd, commands = work
    big = "x" * 20000
    script = f'for i in 1 2 3 4 5 6 7 8; do ( for j in 1 2 3 4 5; do re-info "$i-$j-{big}"; done ) & done; wait\n'
    ensure_executable()
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}", RESOLWE_COMMANDS_FILE=str(commands))
    subprocess.run(["sh", "-c", script], cwd=cwd, env=env, check=True, timeout=120)
    got = records(commands)
    assert len(got) == 40
    assert {c.args[0] for c in got} == {f"{i}-{j}-{big}" for i in range(1, 9) for j in range(1, 6)}


@pytest.fixture
def busybox_bin(tmp_path):
    """A directory whose PATH tools are busybox applets only (sh, tr, gzip, unzip, ...)."""
    busybox = shutil.which("busybox")
    if not busybox:
        pytest.skip("busybox not installed")
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True).stdout.split()
    directory = tmp_path / "busybox-bin"
    directory.mkdir()
    for applet in applets:
        if applet not in ("python3", "unzip"):  # unzip: exercise `busybox unzip`
            (directory / applet).symlink_to(busybox)
    (directory / "busybox").symlink_to(busybox)
    return directory


def test_busybox_sh(busybox_bin, work):
    cwd, commands = work
    (cwd / "f").write_text("x")
    sh = str(busybox_bin / "sh")
    env = {"PATH": f"{BIN}:{busybox_bin}"}
    call(sh, "re-save", "k", "a\nb", cwd=cwd, commands=commands, env=env)
    call(sh, "re-save-file-list", "l", "f:f", "gone", cwd=cwd, commands=commands, env=env)
    call(sh, "re-progress", "0.5", cwd=cwd, commands=commands, env=env)
    assert records(commands) == [
        Command("save", ("k", "a\nb")),
        Command("error", ("Output 'l' set to a missing file: 'gone'.",)),
        Command("progress", ("0.5",)),
    ]


def test_busybox_only_import(busybox_bin, tmp_path):
    cwd = tmp_path / "work"
    cwd.mkdir()
    commands = tmp_path / "commands.bin"
    src = tmp_path / "in.zip"
    with zipfile.ZipFile(src, "w") as handle:
        handle.writestr("inner.txt", "zipped\n")
    env = {"PATH": f"{BIN}:{busybox_bin}"}
    proc = call(
        str(busybox_bin / "sh"),
        "re-import",
        str(src),
        "x.txt.zip",
        "txt",
        "",
        "",
        "compress",
        cwd=cwd,
        commands=commands,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr + str(records(commands))
    assert proc.stdout.strip() == "x.txt.gz"
    assert gzip.decompress((cwd / "x.txt.gz").read_bytes()) == b"zipped\n"


# ------------------------------------------------------------------ re-import
def run_import(tmp_path, *args, env_path=None):
    cwd = tmp_path / "work"
    cwd.mkdir(exist_ok=True)
    commands = tmp_path / "commands.bin"
    env = {"PATH": env_path} if env_path else None
    proc = call("sh", "re-import", *args, cwd=cwd, commands=commands, env=env)
    return proc, cwd, records(commands)


@pytest.fixture
def uploads(tmp_path):
    up = tmp_path / "uploads"
    up.mkdir()
    (up / "plain").write_bytes(b"hello\n")
    with gzip.open(up / "gz", "wb") as handle:
        handle.write(b"gzipped\n")
    with zipfile.ZipFile(up / "zip1", "w") as handle:
        handle.writestr("inner.txt", "zipped\n")
    with zipfile.ZipFile(up / "zip2", "w") as handle:
        handle.writestr("a.txt", "A")
        handle.writestr("sub/b.txt", "B")
    (up / "bad").write_bytes(b"not compressed at all")
    return up


def test_import_plain_both(tmp_path, uploads):
    proc, cwd, cmds = run_import(tmp_path, str(uploads / "plain"), "My File.txt", "txt", "", "0.5")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "My File.txt"
    assert (cwd / "My File.txt").read_bytes() == b"hello\n"
    assert gzip.decompress((cwd / "My File.txt.gz").read_bytes()) == b"hello\n"
    assert cmds == [Command("progress", ("0.5",))]
    assert (uploads / "plain").exists(), "the upload must not be moved"


def test_import_plain_extract_and_out_format(tmp_path, uploads):
    proc, cwd, _ = run_import(tmp_path, str(uploads / "plain"), "x.FA", "fa|fasta", "fasta", "", "extract")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "x.fasta"
    assert sorted(p.name for p in cwd.iterdir()) == ["x.fasta"]


def test_import_gz(tmp_path, uploads):
    proc, cwd, _ = run_import(tmp_path, str(uploads / "gz"), "reads.fq.gz", "fq|fastq", "", "", "compress")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "reads.fq.gz"
    assert sorted(p.name for p in cwd.iterdir()) == ["reads.fq.gz"]
    proc, cwd, _ = run_import(tmp_path, str(uploads / "gz"), "reads.fq.gz", "fq|fastq")
    assert proc.stdout.strip() == "reads.fq"
    assert (cwd / "reads.fq").read_bytes() == b"gzipped\n"


def test_import_bad_gz(tmp_path, uploads):
    proc, cwd, cmds = run_import(tmp_path, str(uploads / "bad"), "x.gz", "", "", "", "compress")
    assert proc.returncode == 1
    assert cmds == [Command("error", ("Invalid gzip file format: x.gz",))]


def test_import_wrong_extension(tmp_path, uploads):
    proc, _, cmds = run_import(tmp_path, str(uploads / "plain"), "x.txt", "fa|fasta")
    assert proc.returncode == 1
    assert cmds[0].name == "error" and "does not match" in cmds[0].args[0]


def test_import_missing_source(tmp_path):
    proc, _, cmds = run_import(tmp_path, str(tmp_path / "nope"), "x.txt")
    assert proc.returncode == 1
    assert cmds == [Command("error", ("File transfer failed: temporary file not found",))]


def _path_without(tool: str, tmp_path: Path) -> str:
    """A PATH with the usual tools but without ``tool`` (and without busybox)."""
    shadow = tmp_path / f"no-{tool}"
    shadow.mkdir(exist_ok=True)
    for directory in ("/usr/bin", "/bin"):
        for entry in Path(directory).iterdir():
            if entry.name in (tool, "busybox") or (shadow / entry.name).exists():
                continue
            try:
                (shadow / entry.name).symlink_to(entry)
            except OSError:
                pass
    return f"{BIN}:{shadow}"


@pytest.mark.parametrize("without", [None, "unzip"])
def test_import_zip_single(tmp_path, uploads, without):
    env_path = _path_without(without, tmp_path) if without else None
    if without and shutil.which("python3", path=env_path) is None and not shutil.which("busybox"):
        pytest.skip("no unzip fallback available")
    proc, cwd, _ = run_import(tmp_path, str(uploads / "zip1"), "data.txt.zip", "", "", "", "", env_path=env_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "data.txt"
    assert (cwd / "data.txt").read_bytes() == b"zipped\n"
    assert gzip.decompress((cwd / "data.txt.gz").read_bytes()) == b"zipped\n"
    assert not any(p.name.startswith("temp_") for p in cwd.iterdir())


def test_import_zip_multi(tmp_path, uploads):
    proc, cwd, _ = run_import(tmp_path, str(uploads / "zip2"), "many.zip", "", "", "", "compress")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "many.tar.gz"
    listing = subprocess.run(["tar", "tzf", str(cwd / "many.tar.gz")], capture_output=True, text=True).stdout
    assert "a.txt" in listing and "sub/b.txt" in listing


def test_import_tar_gz(tmp_path):
    src = Path("/work/shared/conformance/files/compressed dir.tar.gz")
    if not src.exists():
        pytest.skip("conformance files not available")
    proc, cwd, _ = run_import(tmp_path, str(src), src.name, "", "", "", "extract")
    assert proc.returncode == 0, proc.stderr
    assert (cwd / "root dir" / "nested dir.ext" / "empty dir").is_dir()
    proc, cwd, _ = run_import(tmp_path, str(src), src.name, "tar.gz", "", "", "compress")
    assert proc.stdout.strip() == "compressed dir.tar.gz"
    assert (cwd / "compressed dir.tar.gz").read_bytes() == src.read_bytes()


def test_import_fetch_url(tmp_path, uploads):
    """A URL is downloaded (file:// is not a URL here; use a local HTTP server)."""
    import http.server
    import threading
    from functools import partial

    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(uploads))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/plain?token=1"
        proc, cwd, _ = run_import(tmp_path, url, "", "", "", "", "fetch")
    finally:
        server.shutdown()
    if proc.returncode != 0 and "no curl or wget" in proc.stderr + str(_):
        pytest.skip("no downloader")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "plain"
    assert (cwd / "plain").read_bytes() == b"hello\n"


# ------------------------------------------------------------ re-import in a program
# resolwe-bio's upload processes (gtf, bed, obo, mappability, ...) all write `"${NAME}.<ext>"`.
@pytest.mark.parametrize(
    ("file_name", "in_format", "out_format", "name", "made"),
    [
        ("genome.fasta.gz", "fasta|fa", "fasta", "genome", {"genome.fasta", "genome.fasta.gz"}),
        ("annotation.GTF.bz2", "gtf", "gtf", "annotation", {"annotation.gtf", "annotation.gtf.gz"}),
        ("regions.bed.zip", "bed", "bed", "regions", {"regions.bed", "regions.bed.gz"}),
        ("terms.obo", "obo", "obo", "terms", {"terms.obo", "terms.obo.gz"}),
        ("table.tab", "tab|", "", "table", {"table.tab", "table.tab.gz"}),
    ],
)
def test_import_in_a_program_exports_name(tmp_path, file_name, in_format, out_format, name, made):
    import bz2

    from . import run_program

    content = b"chr1\t1\t2\n"
    upload = tmp_path / "upload"
    if file_name.endswith(".gz"):
        upload.write_bytes(gzip.compress(content))
    elif file_name.endswith(".bz2"):
        upload.write_bytes(bz2.compress(content))
    elif file_name.endswith(".zip"):
        with zipfile.ZipFile(upload, "w") as handle:
            handle.writestr(file_name[: -len(".zip")], content)
    else:
        upload.write_bytes(content)
    program = f're-import "{upload}" "{file_name}" "{in_format}" "{out_format}" 0.3\necho "NAME=${{NAME}}"\n'
    run = run_program(program, tmp_path, collect=False)
    assert run.returncode == 0, run.stderr
    assert f"NAME={name}\n" in run.stdout, run.stdout
    assert {p.name for p in run.data_dir.iterdir()} - {"stdout.txt"} == made
    assert (run.data_dir / sorted(made)[0]).read_bytes() == content


def test_a_failed_import_ends_the_program(tmp_path):
    from . import run_program

    (tmp_path / "upload").write_bytes(b"x")
    program = f're-import "{tmp_path / "upload"}" "reads.txt" "fastq|fq"\necho "still running"\n'
    run = run_program(program, tmp_path, collect=False)
    assert run.returncode == 1
    assert "still running" not in run.stdout
    assert run.report.error == ["re-import: file name 'reads.txt' does not match the expected format(s) 'fastq|fq'."]


def test_the_import_function_keeps_stdout_and_status_for_python_callers(tmp_path, uploads):
    """Outside the preamble (Python's import_file), the executable prints the result and writes no NAME."""
    proc, _cwd, _ = run_import(tmp_path, str(uploads / "plain"), "x.txt", "txt", "", "", "extract")
    assert proc.returncode == 0 and proc.stdout == "x.txt\n"
