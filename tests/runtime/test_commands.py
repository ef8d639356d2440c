"""Record parsing (CommandReader) and ProcessReport semantics."""

from __future__ import annotations

import pytest

from resolwe_prefect.runtime import Command, CommandReader, ProcessReport
from resolwe_prefect.runtime.commands import encode_record, parse_records
from resolwe_prefect.runtime.report import parse_value, truncate_message


def apply(*commands: tuple) -> ProcessReport:
    report = ProcessReport()
    for name, *args in commands:
        report.apply(Command(name, tuple(args)))
    return report


# ---------------------------------------------------------------- the reader
def test_reader_incremental_and_partial(tmp_path):
    path = tmp_path / "c"
    reader = CommandReader(path)
    assert reader.read_new() == []  # no file yet
    first = encode_record("save", "a", "1\n2")
    second = encode_record("progress", "0.5")
    path.write_bytes(first + second[:7])
    assert reader.read_new() == [Command("save", ("a", "1\n2"))]
    assert reader.pending_bytes == 7
    assert reader.read_new() == []
    with open(path, "ab") as handle:
        handle.write(second[7:])
    assert reader.read_new() == [Command("progress", ("0.5",))]
    assert reader.read_new() == []


def test_reader_byte_by_byte(tmp_path):
    data = encode_record("info", "x" * 10) + encode_record("run", "slug", '{"a": 1}') + encode_record("save-list", "k")
    path = tmp_path / "c"
    path.write_bytes(b"")
    reader = CommandReader(path)
    got = []
    for byte in data:
        with open(path, "ab") as handle:
            handle.write(bytes([byte]))
        got += reader.read_new()
    assert got == [
        Command("info", ("x" * 10,)),
        Command("run", ("slug", '{"a": 1}')),
        Command("save-list", ("k",)),
    ]


def test_parser_skips_garbage():
    good = encode_record("info", "ok")
    data = b"garbage\x00\n" + good + b"RE1\x00zz\x00junk\n" + good + b"RE1\x002\x00a\x00b\x00c\x00X" + b"\n" + good
    commands, consumed = parse_records(data)
    assert commands == [Command("info", ("ok",))] * 3
    assert consumed == len(data)


def test_parser_waits_for_terminator():
    record = encode_record("info", "ok")
    commands, consumed = parse_records(record[:-1])
    assert commands == [] and consumed == 0


def test_invalid_utf8_is_replaced():
    record = b"RE1\x001\x00info\x00\xff\xfe\x00\n"
    commands, _ = parse_records(record)
    assert commands == [Command("info", ("\ufffd\ufffd",))]


# ------------------------------------------------------------- value parsing
@pytest.mark.parametrize(
    "raw, value",
    [
        ("42", 42),
        ('"42"', "42"),
        ("true", True),
        ("3.14", 3.14),
        ("foo", "foo"),
        ("2013-12-31", "2013-12-31"),
        ("2013-12-31 23:59:59", "2013-12-31 23:59:59"),
        ('{"name": "Google", "url": "http://www.google.com/"}', {"name": "Google", "url": "http://www.google.com/"}),
        ("[1, 2]", [1, 2]),
        ("null", None),
        ("NaN", "NaN"),
        ("1e999", "1e999"),
        ("a\nb", "a b"),
        ('{"a":\n1}', {"a": 1}),
        ("", ""),
    ],
)
def test_parse_value(raw, value):
    assert parse_value(raw) == value


def test_truncate():
    assert truncate_message("x" * 255) == "x" * 255
    cut = truncate_message("x" * 3000)
    assert len(cut) == 255 and cut.endswith("xx...")


# ------------------------------------------------------------------ semantics
def test_basic_types_and_groups():
    report = apply(
        ("save", "out_boolean", "true"),
        ("save", "out_integer", "42"),
        ("save", "out_numeric_string", '"0"'),
        ("save", "out_group.string2", "bar"),
        ("save", "out_group.inner.x", "1"),
        ("save-list", "lst", "1", "a", '"2"'),
    )
    assert report.output == {
        "out_boolean": True,
        "out_integer": 42,
        "out_numeric_string": "0",
        "out_group": {"string2": "bar", "inner": {"x": 1}},
        "lst": [1, "a", "2"],
    }
    assert report.error == []


def test_file_commands():
    report = apply(
        ("save-file", "f", "a.txt"),
        ("save-file", "g", "b.txt", "r1", "r2"),
        ("save-dir", "d", "dir", "r"),
        ("save-file-list", "fl", "e1", "e2:ref1", "e3:refs, x"),
        ("save-dir-list", "dl", "d1:r2", "d2"),
        ("save-file-list", "empty"),
    )
    assert report.output == {
        "f": {"file": "a.txt"},
        "g": {"file": "b.txt", "refs": ["r1", "r2"]},
        "d": {"dir": "dir", "refs": ["r"]},
        "fl": [{"file": "e1"}, {"file": "e2", "refs": ["ref1"]}, {"file": "e3", "refs": ["refs", "x"]}],
        "dl": [{"dir": "d1", "refs": ["r2"]}, {"dir": "d2"}],
        "empty": [],
    }


def test_logs_truncation_dedup_and_error_freezes():
    report = apply(
        ("info", "abc"),
        ("info", "abc"),
        ("info", "x" * 3000),
        ("warning", "y" * 3000),
        ("error", "z" * 3000),
        ("info", "after"),
        ("save", "k", "1"),
        ("error", "second"),
        ("progress", "0.9"),
    )
    assert report.info == ["abc", "x" * 252 + "..."]
    assert report.warning == ["y" * 252 + "..."]
    assert report.error == ["z" * 252 + "..."]
    assert report.output == {} and report.progress is None
    assert report.failed


def test_progress():
    report = apply(("progress", "0.1"))
    assert report.progress == 10.0
    report.apply(Command("progress", ("0.5",)))
    assert report.progress == 50.0
    report.apply(Command("progress", ("1",)))
    assert report.progress == 100.0
    report.apply(Command("progress", ("abc",)))
    report.apply(Command("progress", ("1.5",)))
    assert report.warning == ["Progress must be a float.", "Progress must be a float between 0 and 1."]
    assert report.progress == 100.0 and not report.failed


@pytest.mark.parametrize(
    "args, rc, errors",
    [
        (("0",), None, []),
        (("1",), 1, ["Unspecified error"]),
        (("1", "2", "Custom checkrc error"), 1, ["Custom checkrc error"]),
        (("2", "2", "Custom checkrc error"), None, []),
        (("2", "1", "2"), None, []),
        (("3", "1", "2"), 3, ["Unspecified error"]),
        (("x",), None, ["Invalid return code: 'x'."]),
        (("1", "y", "msg"), None, ["Invalid return code: 'y'."]),
    ],
)
def test_checkrc(args, rc, errors):
    report = apply(("checkrc", *args))
    assert report.rc == rc
    assert report.error == errors


def test_annotate_export_run():
    report = apply(
        ("annotate-entity", "general.species", "Valid"),
        ("annotate-entity", "general.age", "15"),
        ("export", "foo.bar"),
        ("export", "foo.bar"),
        ("run", "test-save-file", '{"input_file": "foo.bar"}'),
    )
    assert report.annotations == {"general.species": "Valid", "general.age": 15}
    assert report.exports == ["foo.bar"]
    assert report.spawned == [{"process": "test-save-file", "input": {"input_file": "foo.bar"}}]


def test_usage_errors_and_unknown():
    report = apply(("nonsense", "x"))
    assert report.error == []
    report = apply(("save", "only-key"))
    assert report.error and report.error[0].startswith("Unexpected error in 're-save'")


def test_add_error_for_runner():
    report = ProcessReport()
    report.add_error("No entity to annotate for process 'x'")
    report.add_error("No entity to annotate for process 'x'")
    assert report.error == ["No entity to annotate for process 'x'"]
    report.apply(Command("save", ("a", "1")))
    assert report.output == {}
