"""The hand-over socket between the API and the embedded worker (``execution.dispatch``)."""

from __future__ import annotations

import asyncio
import stat

import pytest

from resolwe_prefect.execution.worker import dispatch


@pytest.fixture
def state_dir(settings, tmp_path):
    settings.STATE_DIR = tmp_path
    return tmp_path


async def _received(listener_path, send, count: int = 1) -> list[list[int]]:
    received: list[list[int]] = []
    listener = dispatch.DispatchListener(received.append, listener_path)
    listener.start(asyncio.get_running_loop())
    try:
        assert send()
        for _ in range(200):
            if sum(len(chunk) for chunk in received) >= count:
                break
            await asyncio.sleep(0.01)
    finally:
        listener.stop()
    return received


def test_ids_reach_the_worker(state_dir):
    received = asyncio.run(_received(dispatch.socket_path(), lambda: dispatch.notify_worker([3, 1, 2]), count=3))
    assert received == [[3, 1, 2]]


def test_only_the_workers_user_may_send(state_dir):
    async def check():
        listener = dispatch.DispatchListener(lambda ids: None)
        listener.start(asyncio.get_running_loop())
        try:
            return stat.S_IMODE(listener.path.stat().st_mode)
        finally:
            listener.stop()

    assert asyncio.run(check()) == 0o600
    assert not dispatch.socket_path().exists()  # removed on stop, so the API falls back at once


def test_no_worker_means_the_caller_submits_itself(state_dir):
    assert dispatch.notify_worker([1]) is False
    dispatch.socket_path().touch()  # a stale socket file left by a worker that died
    assert dispatch.notify_worker([1]) is False


def test_the_socket_is_per_deployment(state_dir, settings):
    first = dispatch.socket_path()
    settings.PREFECT_DEPLOYMENT = "resolwe-data/process"
    assert dispatch.socket_path() != first


def test_a_state_dir_too_long_for_a_socket_path_uses_an_abstract_socket(settings, tmp_path):
    settings.STATE_DIR = tmp_path / ("x" * 120)
    path = dispatch.socket_path()
    assert dispatch.socket_address(path).startswith("\0")
    received = asyncio.run(_received(path, lambda: dispatch.notify_worker([7])))
    assert received == [[7]]


def test_large_lists_are_split_into_datagrams(state_dir):
    ids = list(range(dispatch.CHUNK * 2 + 5))
    received = asyncio.run(_received(dispatch.socket_path(), lambda: dispatch.notify_worker(ids), count=len(ids)))
    assert len(received) == 3
    assert [i for chunk in received for i in chunk] == ids


def test_malformed_messages_are_ignored(state_dir):
    import socket

    async def run():
        received: list[list[int]] = []
        listener = dispatch.DispatchListener(received.append)
        listener.start(asyncio.get_running_loop())
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(b"not json", listener.address)
                sock.sendto(b'["a"]', listener.address)
                sock.sendto(b"[5]", listener.address)
            for _ in range(100):
                if received:
                    break
                await asyncio.sleep(0.01)
        finally:
            listener.stop()
        return received

    assert asyncio.run(run()) == [[5]]
