"""The chunk fields of ``/upload/`` checked against each other (issue 14, finding 7); pure, no database."""

from __future__ import annotations

import pytest

from resolwe_prefect.uploads.chunks import Chunk, ChunkError, parse_chunk

MB8 = 8_000_000
LIMIT = 1 << 40


def fields(number=0, size=MB8, total=20_000_000, current=None):
    values = {"_chunkNumber": str(number), "_chunkSize": str(size), "_totalSize": str(total)}
    if current is not None:
        values["_currentChunkSize"] = str(current)
    return values


def refusal(values, length, limit=LIMIT) -> ChunkError:
    with pytest.raises(ChunkError) as error:
        parse_chunk(values, length, limit)
    return error.value


def test_resdk_chunks_are_accepted():
    """resdk's three chunks of a 20 MB file: two full ones and the rest."""
    assert parse_chunk(fields(0, current=MB8), MB8, LIMIT) == Chunk(0, MB8, MB8, 20_000_000)
    assert parse_chunk(fields(1, current=MB8), MB8, LIMIT).offset == MB8
    last = parse_chunk(fields(2, current=4_000_000), 4_000_000, LIMIT)
    assert (last.offset, last.end) == (2 * MB8, 20_000_000)


def test_a_bare_file_part_is_a_one_piece_upload():
    assert parse_chunk({}, 10, LIMIT) == Chunk(0, 10, 10, 10)
    assert parse_chunk({"_totalSize": "0"}, 0, LIMIT) == Chunk(0, 1, 0, 0)  # an empty file


@pytest.mark.parametrize("name", ["_chunkNumber", "_chunkSize", "_totalSize", "_currentChunkSize"])
@pytest.mark.parametrize("value", ["-1", "1.5", "1e3", " 5", "+5", "٣", "x", "9" * 21])
def test_numbers_must_be_plain_non_negative_integers(name, value):
    values = {**fields(current=8), name: value}
    assert name in refusal(values, 8).detail


def test_a_chunk_past_the_end_is_refused():
    """A 10-byte chunk at offset 100 GB of a 100 GB file wrote a sparse file and completed it."""
    hundred_gb = 100 * 10**9
    error = refusal(fields(number=hundred_gb // 10 - 1, size=10, total=hundred_gb - 5), 10)
    assert "_chunkNumber" in error.detail
    assert "_chunkNumber" in refusal(fields(number=10**19, size=MB8), MB8).detail


def test_total_size_has_a_limit():
    error = refusal(fields(total=LIMIT + 1), MB8, LIMIT)
    assert error.status_code == 413 and "_totalSize" in error.detail


def test_sizes_must_agree_with_the_bytes():
    assert "_currentChunkSize" in refusal(fields(current=5), 8).detail
    assert "_chunkSize" in refusal(fields(size=0, total=0), 0).detail
    assert "file" in refusal(fields(size=4, total=100), 8).detail  # longer than _chunkSize
    assert "file" in refusal(fields(number=0, size=8, total=100), 5).detail  # short, not the last
    assert "file" in refusal(fields(number=0, size=8, total=8), 0).detail  # empty, but bytes expected


def test_later_chunks_must_say_where_they_belong():
    assert "_chunkSize" in refusal({"_chunkNumber": "1", "_totalSize": "16"}, 8).detail
    assert "_totalSize" in refusal({"_chunkNumber": "1", "_chunkSize": "8"}, 8).detail
