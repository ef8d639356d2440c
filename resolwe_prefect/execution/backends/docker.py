"""Run a program in its own Docker container, with the process's limits.

The flow run stays light and outside the container; the image only needs a
POSIX shell (and python3 for Python processes), because the ``re-*``
utilities, the script and the Python runtime are mounted in from our side
(a Python process's channel is the Unix socket ``/runtime/channel.sock``).
Layout inside the container:

    /data                 the Data object's directory (read-write, the working directory)
    /inputs/<data id>     the Data directories of its inputs (read-only)
    /runtime              script, commands file, temp dir, staged uploads
    /opt/resolwe/bin      the re-* utilities (read-only)
    /opt/resolwe/python   a Python process's runtime: resolwe.process and plumbum (read-only; the image needs python3)
    /python_runtime       the same, where Resolwe mounts it
    /secrets              the secrets the process may see (read-only), when there are any
    /etc/passwd, /etc/group  name the run's own identity (``identity.py``)

Each run has a uid of its own (``DOCKER_USER`` pins one for all), no
capabilities and no way to gain privileges; removing the container ends
every process the program started.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

from django.conf import settings
from docker.errors import ImageNotFound
from docker.types import Mount

from resolwe_prefect.data import layout

from .base import (
    BIN_MOUNT,
    PYTHON_MOUNT,
    RESOLWE_PYTHON_MOUNT,
    ChannelEndpoint,
    OutputLine,
    ProgramJob,
    ProgramResult,
    container_path,
    python_runtime,
    relay_lines,
)
from .identity import ProgramIdentity, give_to_program, identity_files, program_identity, reclaim, seal
from .images import ensure_image, map_image
from .tools import needs_python_runtime, tools_mounts

logger = logging.getLogger(__name__)


class DockerBackend:
    """One container per program, removed after the run."""

    name = "docker"

    def __init__(self, client=None) -> None:
        self._client = client

    @property
    def client(self):
        if self._client is None:
            import docker

            self._client = docker.from_env()
        return self._client

    def program_path(self, host_path: Path, *, data_dir: Path, runtime_dir: Path) -> str:
        return container_path(host_path, data_dir=data_dir, runtime_dir=runtime_dir, data_root=layout.data_root())

    def bin_dir(self) -> str:
        return BIN_MOUNT

    def python_path(self) -> str:
        return PYTHON_MOUNT

    def tools_path(self) -> list[str]:
        return [mount for _host, mount in tools_mounts()]

    def channel_endpoint(self) -> ChannelEndpoint | None:
        return None  # the socket in /runtime: a bind mount carries it into the container

    @staticmethod
    def identity(job: ProgramJob) -> ProgramIdentity:
        return program_identity(job.data_id, settings.FLOW_EXECUTOR.get("DOCKER_USER") or None)

    def container_options(self, job: ProgramJob) -> dict:
        """Mounts, limits, user and network of the container (docker-py ``containers.create`` arguments)."""
        from resolwe_prefect.runtime.preamble import bin_dir

        identity = self.identity(job)
        passwd, group = identity_files(identity, job.runtime_dir / "identity")
        volumes = {
            str(job.data_dir): {"bind": "/data", "mode": "rw"},
            str(job.runtime_dir): {"bind": "/runtime", "mode": "rw"},
            str(bin_dir()): {"bind": BIN_MOUNT, "mode": "ro"},
            str(passwd): {"bind": "/etc/passwd", "mode": "ro"},
            str(group): {"bind": "/etc/group", "mode": "ro"},
        }
        for input_dir in job.input_dirs:
            volumes[str(input_dir)] = {"bind": f"/inputs/{input_dir.name}", "mode": "ro"}
        mounts = [Mount(mount, str(host), type="bind", read_only=True) for host, mount in tools_mounts()]
        if job.secrets_dir is not None:
            volumes[str(job.secrets_dir)] = {"bind": "/secrets", "mode": "ro"}
        if needs_python_runtime(job.language):
            # docker-py's volumes map each host path once: the second place is a mount of its own.
            runtime = str(python_runtime())
            volumes[runtime] = {"bind": PYTHON_MOUNT, "mode": "ro"}
            mounts.append(Mount(RESOLWE_PYTHON_MOUNT, runtime, type="bind", read_only=True))
        memory = f"{int(job.memory_mb)}m"
        return {
            "image": map_image(job.image or settings.FLOW_EXECUTOR["DOCKER_DEFAULT_IMAGE"]),
            "command": ["bash", "--noprofile", "--norc", "/runtime/script.sh"],
            "working_dir": "/data",
            "environment": job.env,
            "user": identity.spec,
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "volumes": volumes,
            "mounts": mounts,
            "nano_cpus": int(job.cores * 1e9),
            "mem_limit": memory,
            "memswap_limit": memory,
            "network_mode": "bridge" if job.network else "none",
            "labels": {"resolwe.data_id": str(job.data_id)},
            "detach": True,
        }

    async def run(self, job: ProgramJob, on_output: OutputLine) -> ProgramResult:
        (job.runtime_dir / "script.sh").write_text(job.script)
        options = self.container_options(job)
        give_to_program(self.identity(job), job.data_dir, job.runtime_dir)
        try:
            return await self._run_container(job, options, on_output)
        finally:
            seal(job.data_dir)
            reclaim(job.runtime_dir)

    async def _run_container(self, job: ProgramJob, options: dict, on_output: OutputLine) -> ProgramResult:
        problem = await asyncio.to_thread(ensure_image, self.client, options["image"])
        if problem is not None:
            return ProgramResult(return_code=1, message=problem)
        try:
            container = await asyncio.to_thread(self.client.containers.create, **options)
        except Exception as error:  # noqa: BLE001 - a missing image or a refused mount is the run's error
            # The engine answers 404 "No such image" (docker-py does not always
            # map it to ImageNotFound); with the pull policy Never, say what to do.
            if isinstance(error, ImageNotFound) or "no such image" in str(error).lower():
                return ProgramResult(
                    return_code=1,
                    message=f"Could not create the container: Docker image {options['image']!r} is not available on this "
                    "host (DOCKER_PULL_POLICY is Never): build or pull it (list_docker_images --pull), "
                    "or fix requirements.executor.docker.image.",
                )
            return ProgramResult(return_code=1, message=f"Could not create the container: {error}")
        try:
            await asyncio.to_thread(container.start)
            await asyncio.wait_for(self._stream(container, on_output), timeout=job.timeout)
            status = await asyncio.to_thread(container.wait)
            await asyncio.to_thread(container.reload)
            return_code = int(status.get("StatusCode", 1))
            if container.attrs.get("State", {}).get("OOMKilled"):
                return ProgramResult(
                    return_code, f"Process was killed: it ran out of memory (limit {job.memory_mb} MB)."
                )
            if return_code == 137:
                return ProgramResult(
                    return_code, "Process was killed (SIGKILL): its container was killed from outside or stopped."
                )
            return ProgramResult(return_code)
        except TimeoutError:
            await asyncio.to_thread(container.kill)
            return ProgramResult(137, f"Process exceeded the time limit of {job.timeout:g} s.")
        finally:
            await asyncio.to_thread(container.remove, force=True)

    def abandon(self, data_id: int, runtime_dir: str) -> None:
        """Remove the containers of a Data object whose worker died: they outlive it, still running."""
        for container in self.client.containers.list(all=True, filters={"label": f"resolwe.data_id={data_id}"}):
            try:
                container.remove(force=True)
            except Exception:  # noqa: BLE001 - already gone
                pass

    async def _stream(self, container, on_output: OutputLine) -> None:
        """Relay the container's output lines from docker-py's blocking stream."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()

        def deliver(item: bytes | None) -> bool:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
                return True
            except RuntimeError:  # the event loop is closed: no one is reading any more
                return False

        def pump() -> None:
            # Ends quietly when the container or the loop is gone first (a removed container,
            # a run that was abandoned); the waiting side learns the result from the container.
            try:
                for chunk in container.logs(stream=True, follow=True, stdout=True, stderr=True):
                    if not deliver(chunk):
                        return
            except Exception:  # noqa: BLE001 - e.g. docker.errors.NotFound after removal
                logger.debug("Log stream of container %s ended early", container.id[:12], exc_info=True)
            deliver(None)

        threading.Thread(target=pump, daemon=True, name=f"docker-logs-{container.id[:12]}").start()

        async def chunks():
            while (chunk := await queue.get()) is not None:
                yield chunk

        await relay_lines(chunks(), on_output)
