"""Bench the storage framework's transfers of one file: hashing, copy to object storage, stage-in.

    python bench/storage.py [--size-mb 100] [--runs 3] [--json PATH]

Starts moto's S3 server and gcp-storage-emulator in this process (as the tests do), writes a file
of ``--size-mb`` random MiB and times, per store, what the storage manager and a flow run's
stage-in do with it: recording its hashes (md5, crc32c, S3 ETag in one pass), the copy
(``push`` plus the hash check against what the store reports) and the stage-in (``get`` back to
local disk plus the same check). Medians of ``--runs``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from resolwe_prefect.storage.connectors import build_connectors  # noqa: E402
from resolwe_prefect.storage.hashing import compute_hashes  # noqa: E402
from tests.storage.servers import start_gcs, start_s3  # noqa: E402

CLASSES = {
    "S3": "resolwe.storage.connectors.s3connector.AwsS3Connector",
    "GCS": "resolwe.storage.connectors.googleconnector.GoogleConnector",
}


def _checked(reported: dict[str, str], expected: dict[str, str]) -> None:
    compared = [name for name in reported if name in expected]
    assert compared and all(reported[name] == expected[name] for name in compared), (reported, expected)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
    work = Path(tempfile.mkdtemp(prefix="bench-storage-"))
    source = work / "reads.bin"
    with source.open("wb") as handle:
        for _ in range(args.size_mb):
            handle.write(os.urandom(1 << 20))
    started = time.perf_counter()
    hashes = compute_hashes(source)
    results: dict[str, float] = {"hash_s": time.perf_counter() - started}
    s3, s3_handle = start_s3(work)
    gcs, gcs_handle = start_gcs()
    try:
        for name, handle in (("S3", s3_handle), ("GCS", gcs_handle)):
            config = {name: {"connector": CLASSES[name], "config": handle.connector_config()}}
            connector = build_connectors(config)[name]
            copies, stages = [], []
            for run in range(args.runs):
                key = f"{run}/reads.bin"
                started = time.perf_counter()
                connector.push(source, key)
                _checked(connector.get_hashes(key), hashes)
                copies.append(time.perf_counter() - started)
                target = work / f"staged-{name}-{run}.bin"
                started = time.perf_counter()
                connector.get(key, target)
                _checked(compute_hashes(target), hashes)
                stages.append(time.perf_counter() - started)
                target.unlink()
            results[f"{name}_copy_s"] = statistics.median(copies)
            results[f"{name}_stage_in_s"] = statistics.median(stages)
    finally:
        s3.stop()
        gcs.stop()
        source.unlink()
    print(f"file: {args.size_mb} MiB, runs: {args.runs} (medians)")
    for name, seconds in results.items():
        print(f"  {name:<16} {seconds:7.2f} s  ({args.size_mb / seconds:6.1f} MiB/s)")
    if args.json:
        args.json.write_text(json.dumps({"size_mb": args.size_mb, **results}, indent=2))


if __name__ == "__main__":
    main()
