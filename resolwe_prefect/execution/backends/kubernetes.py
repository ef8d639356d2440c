"""Run a program as its own Kubernetes Job, with the process's limits and placement.

The flow run stays light (a flow-run pod of the ``resolwe-kubernetes`` work
pool, or any worker that can reach the cluster); the program runs in a Job of
its own, started, followed and deleted by this backend through
``kubernetes_asyncio``. The image only needs bash: the ``re-*`` utilities come
in as a ConfigMap and the script through the shared volume. Layout inside the
program's container, the same as the Docker backend's:

    /data                 the Data object's directory (read-write, the working directory)
    /inputs/<data id>     the Data directories of its inputs (read-only)
    /runtime              script, commands file, temp dir, staged uploads
    /opt/resolwe/bin      the re-* utilities (a ConfigMap, read-only)
    /opt/resolwe/python   a Python process's runtime (the shared volume's python-runtime/<hash>, read-only)
    /python_runtime       the same, where Resolwe mounts it
    /secrets              the secrets the process may see (a per-run Secret, read-only), when there are any

Python processes: their runtime (``resolwe.process``, plumbum) is too big for
a ConfigMap (1 MiB), so the flow run copies it once per content hash onto the
shared volume (``python-runtime/<hash>``) and the program mounts that
read-only. Their channel is TCP: the flow run listens on its pod's address
(``RESOLWE_PREFECT_POD_IP`` from the downward API, or
``KUBERNETES_CHANNEL_HOST``) and the program gets
``RESOLWE_CHANNEL=tcp://<host>:<port>`` and ``RESOLWE_CHANNEL_TOKEN`` from a
per-run Secret (``<job>-channel``, owned by the Job); no Service is needed,
the program connects to the flow-run pod directly
(``deployments/kubernetes/networkpolicy.yaml`` lets programs without network
reach flow-run pods, and nothing else).

Storage (``kubernetes_volume``): the Data directories and the runtime directories live on one
shared ReadWriteMany PersistentVolumeClaim (``KUBERNETES_DATA_PVC``), whose root the flow side
sees at ``KUBERNETES_VOLUME_ROOT`` (default: the state directory, ``RESOLWE_PREFECT_HOME``), so a
host path of ours is the claim's ``subPath`` relative to that root. Without ReadWriteMany, the
flow-run pod's own ReadWriteOnce workspace (``RESOLWE_PREFECT_WORKSPACE_CLAIM``) takes the shared
claim's place and the program pod is pinned to the flow-run pod's node.

Settings (all in ``FLOW_EXECUTOR``, all optional):

    KUBERNETES_NAMESPACE           namespace of the program Jobs (default: the pod's own, else "default")
    KUBERNETES_DATA_PVC            the shared claim (default "resolwe-data")
    KUBERNETES_VOLUME_ROOT         where the claim's root is mounted on our side (default STATE_DIR)
    KUBERNETES_DEFAULT_IMAGE       image for processes that name none (default DOCKER_DEFAULT_IMAGE)
    KUBERNETES_IMAGE_PULL_POLICY   default "IfNotPresent" (Resolwe's FLOW_KUBERNETES_PULL_POLICY wins)
    KUBERNETES_IMAGE_PULL_SECRETS  names of image pull Secrets (default none)
    KUBERNETES_USER                "uid[:gid]" every program runs as (default DOCKER_USER, else a uid per run)
    KUBERNETES_PLACEMENT           {scheduling class: pod-spec fields}, see DEFAULT_PLACEMENT
    KUBERNETES_JOB_TTL             ttlSecondsAfterFinished of program Jobs (default 600)
    KUBERNETES_START_TIMEOUT       seconds a program pod may take to start (default 1800)
    KUBERNETES_CHANNEL_HOST        the address programs reach the flow run at (default RESOLWE_PREFECT_POD_IP)
    KUBERNETES_CHANNEL_PORT        the channel's TCP port (default 0: any free port)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import hashlib
import inspect
import math
import os
import re
import secrets as random
import socket
import time
from pathlib import Path
from typing import Any

from django.conf import settings

from resolwe_prefect.data import layout

from .base import (
    BIN_MOUNT,
    PYTHON_MOUNT,
    PYTHON_MOUNTS,
    ChannelEndpoint,
    OutputLine,
    ProgramJob,
    ProgramResult,
    container_path,
)
from .identity import ProgramIdentity, give_to_program, identity_files, program_identity, seal
from .images import map_image
from .kubernetes_volume import (
    data_claim,
    pin_to_node,
    python_runtime_sub_path,
    stage_python_runtime,
    sub_path,
    tools_sub_paths,
    workspace_node,
)
from .kubernetes_volume import setting as _setting
from .tools import needs_python_runtime, tools_mounts

SECRETS_MOUNT = "/secrets"
CONTAINER = "program"
APP_LABEL = "resolwe-prefect"
POLL_SECONDS = 1.0
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
# Pod-spec fields a scheduling class may set; anything else in KUBERNETES_PLACEMENT is a mistake.
PLACEMENT_FIELDS = frozenset(
    {
        "nodeSelector",
        "tolerations",
        "affinity",
        "priorityClassName",
        "runtimeClassName",
        "topologySpreadConstraints",
        "schedulerName",
    }
)
# Interactive programs (IN) go first and prefer nodes kept for them; batch (BA) yields to them and
# may use tainted batch nodes. The PriorityClasses ship in deployments/kubernetes/priorityclasses.yaml;
# preferences and tolerations are harmless on a cluster without such nodes.
DEFAULT_PLACEMENT: dict[str, dict[str, Any]] = {
    "IN": {
        "priorityClassName": "resolwe-interactive",
        "affinity": {
            "nodeAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "preference": {
                            "matchExpressions": [
                                {"key": "resolwe.io/node-pool", "operator": "In", "values": ["interactive"]},
                            ]
                        },
                    }
                ]
            }
        },
    },
    "BA": {
        "priorityClassName": "resolwe-batch",
        "tolerations": [{"key": "resolwe.io/batch", "operator": "Exists", "effect": "NoSchedule"}],
        "affinity": {
            "nodeAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "preference": {
                            "matchExpressions": [
                                {"key": "resolwe.io/node-pool", "operator": "In", "values": ["batch"]},
                            ]
                        },
                    }
                ]
            }
        },
    },
}
# A container waiting for one of these reasons will not start without someone's help.
FATAL_WAITING = frozenset(
    {
        "ImagePullBackOff",
        "InvalidImageName",
        "ErrImageNeverPull",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    }
)
_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


def namespace() -> str:
    """The namespace of program Jobs: the setting, else the one we run in, else ``default``."""
    configured = _setting("KUBERNETES_NAMESPACE")
    if configured:
        return str(configured)
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or "default"
    except OSError:
        return "default"


def placement(scheduling_class: str) -> dict[str, Any]:
    """The pod-spec fields of one scheduling class (unknown classes are placed as batch)."""
    configured = _setting("KUBERNETES_PLACEMENT", DEFAULT_PLACEMENT)
    chosen = configured.get(scheduling_class, configured.get("BA", {}))
    unknown = set(chosen) - PLACEMENT_FIELDS
    if unknown:
        raise ValueError(
            f"KUBERNETES_PLACEMENT[{scheduling_class!r}] sets fields that are not placement: {sorted(unknown)}"
        )
    return copy.deepcopy(chosen)


def utilities() -> dict[str, str]:
    """The ``re-*`` utilities (and the library they source), file name -> text."""
    from resolwe_prefect.runtime.preamble import bin_dir

    return {
        path.name: path.read_text()
        for path in sorted(Path(bin_dir()).iterdir())
        if path.is_file() and _KEY.match(path.name)
    }


def utilities_configmap() -> dict:
    """The ConfigMap with the ``re-*`` utilities; its name changes with their content."""
    files = utilities()
    digest = hashlib.sha256()
    for name, text in files.items():
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"resolwe-utilities-{digest.hexdigest()[:10]}",
            "labels": {"app.kubernetes.io/name": APP_LABEL, "app.kubernetes.io/component": "utilities"},
        },
        "immutable": True,
        "data": files,
    }


def job_name(job: ProgramJob) -> str:
    """``resolwe-data-<id>-<random>``: one per attempt, a valid DNS label."""
    return f"resolwe-data-{int(job.data_id)}-{random.token_hex(3)}"


def secrets_name(name: str) -> str:
    return f"{name}-secrets"


def channel_secret_name(name: str) -> str:
    return f"{name}-channel"


def read_secret_files(directory: Path) -> dict[str, bytes]:
    """The files of a secrets directory (made unlistable, 0300, by ``write_secret_files``)."""
    directory = Path(directory)
    mode = directory.stat().st_mode & 0o7777
    os.chmod(directory, mode | 0o700)
    try:
        contents = {}
        for path in sorted(directory.iterdir()):
            if not _KEY.match(path.name):
                raise ValueError(f"Secret handle {path.name!r} cannot be a Kubernetes Secret key.")
            contents[path.name] = path.read_bytes()
        return contents
    finally:
        os.chmod(directory, mode)


class KubernetesBackend:
    """One Job per program, deleted after the run (with its Secret)."""

    name = "kubernetes"

    def __init__(self, api_factory=None) -> None:
        # ``api_factory()`` returns an async context manager giving ``(core, batch)``
        # API objects; without it they are kubernetes_asyncio's, from the in-cluster
        # config or the kubeconfig. Tests pass fakes.
        self._api_factory = api_factory
        self._configuration: Any = None

    # --- paths (as the Docker backend) -------------------------------------------------------

    def program_path(self, host_path: Path, *, data_dir: Path, runtime_dir: Path) -> str:
        return container_path(host_path, data_dir=data_dir, runtime_dir=runtime_dir, data_root=layout.data_root())

    def bin_dir(self) -> str:
        return BIN_MOUNT

    def python_path(self) -> str:
        return PYTHON_MOUNT

    def tools_path(self) -> list[str]:
        return [mount for _host, mount in tools_mounts()]

    def channel_endpoint(self) -> ChannelEndpoint | None:
        """TCP on the flow run's pod: the program runs in a pod of its own and cannot reach our runtime's socket."""
        host = _setting("KUBERNETES_CHANNEL_HOST") or os.environ.get("RESOLWE_PREFECT_POD_IP")
        if not host:
            host = socket.gethostbyname(socket.gethostname())
        return ChannelEndpoint(bind="0.0.0.0", port=int(_setting("KUBERNETES_CHANNEL_PORT", 0)), host=str(host))  # noqa: S104

    # --- manifests -----------------------------------------------------------------------------

    @staticmethod
    def identity(job: ProgramJob) -> ProgramIdentity:
        """The run's own uid, unless the site pins one (``KUBERNETES_USER``, else ``DOCKER_USER``)."""
        return program_identity(job.data_id, str(_setting("KUBERNETES_USER", _setting("DOCKER_USER", ""))) or None)

    def labels(self, job: ProgramJob, name: str) -> dict[str, str]:
        return {
            "app.kubernetes.io/name": APP_LABEL,
            "app.kubernetes.io/component": "program",
            "resolwe.io/data-id": str(int(job.data_id)),
            "resolwe.io/run": name,
        }

    def job_manifest(
        self,
        job: ProgramJob,
        *,
        scheduling_class: str = "BA",
        name: str | None = None,
        utilities_name: str | None = None,
        python_runtime: str | None = None,
        tools: list[str] | None = None,
    ) -> dict:
        """The complete ``batch/v1`` Job of one program run.

        ``python_runtime`` and ``tools`` are the ``subPath`` of the staged runtime and tools
        directories (by default, where their current content would be staged).
        """
        name = name or job_name(job)
        utilities_name = utilities_name or utilities_configmap()["metadata"]["name"]
        identity = self.identity(job)
        uid, gid = identity.uid, identity.gid
        labels = self.labels(job, name)
        pod_labels = {
            **labels,
            "resolwe.io/scheduling-class": scheduling_class,
            # deployments/kubernetes/networkpolicy.yaml cuts pods labelled "none" off the network.
            "resolwe.io/network": "allowed" if job.network else "none",
        }
        claim = data_claim()
        mounts = [
            {"name": "data", "mountPath": "/data", "subPath": sub_path(job.data_dir)},
            {"name": "data", "mountPath": "/runtime", "subPath": sub_path(job.runtime_dir)},
            {"name": "utilities", "mountPath": BIN_MOUNT, "readOnly": True},
            # The run's identity resolves by name (identity.py); the files are on the shared volume.
            {
                "name": "data",
                "mountPath": "/etc/passwd",
                "readOnly": True,
                "subPath": sub_path(job.runtime_dir / "identity" / "passwd"),
            },
            {
                "name": "data",
                "mountPath": "/etc/group",
                "readOnly": True,
                "subPath": sub_path(job.runtime_dir / "identity" / "group"),
            },
        ]
        for input_dir in job.input_dirs:
            mounts.append(
                {
                    "name": "data",
                    "mountPath": f"/inputs/{Path(input_dir).name}",
                    "subPath": sub_path(Path(input_dir)),
                    "readOnly": True,
                }
            )
        # Tools reach a pod from the volume: FLOW_TOOLS_ROOT on it (``collecttools``), else a staged copy.
        tools = tools_sub_paths(stage=False) if tools is None else tools
        for (_host, mount), tools_sub in zip(tools_mounts(), tools, strict=True):
            mounts.append({"name": "data", "mountPath": mount, "subPath": tools_sub, "readOnly": True})
        if needs_python_runtime(job.language):
            runtime_path = python_runtime or python_runtime_sub_path()
            for mount in PYTHON_MOUNTS:
                mounts.append({"name": "data", "mountPath": mount, "subPath": runtime_path, "readOnly": True})
        volumes: list[dict[str, Any]] = [
            {"name": "data", "persistentVolumeClaim": {"claimName": claim}},
            {"name": "utilities", "configMap": {"name": utilities_name, "defaultMode": 0o755}},
        ]
        if job.secrets_dir is not None:
            volumes.append({"name": "secrets", "secret": {"secretName": secrets_name(name), "defaultMode": 0o440}})
            mounts.append({"name": "secrets", "mountPath": SECRETS_MOUNT, "readOnly": True})
            if Path(job.secrets_dir).is_relative_to(job.runtime_dir):
                # The secrets' files are on the shared volume too: hide them under /runtime.
                volumes.append({"name": "secrets-mask", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}})
                mounts.append(
                    {
                        "name": "secrets-mask",
                        "readOnly": True,
                        "mountPath": str(Path("/runtime") / Path(job.secrets_dir).relative_to(job.runtime_dir)),
                    }
                )
        env: list[dict[str, Any]] = [{"name": str(k), "value": str(v)} for k, v in job.env.items()]
        if job.channel_token is not None:
            secret_ref = {"name": channel_secret_name(name), "key": "token"}
            env.append({"name": "RESOLWE_CHANNEL_TOKEN", "valueFrom": {"secretKeyRef": secret_ref}})
        cpu, memory = str(max(int(job.cores), 1)), f"{int(job.memory_mb)}Mi"
        container = {
            "name": CONTAINER,
            "image": map_image(job.image or _setting("KUBERNETES_DEFAULT_IMAGE", _setting("DOCKER_DEFAULT_IMAGE"))),
            # Resolwe's FLOW_KUBERNETES_PULL_POLICY, else ours.
            "imagePullPolicy": getattr(settings, "FLOW_KUBERNETES_PULL_POLICY", None)
            or _setting("KUBERNETES_IMAGE_PULL_POLICY", "IfNotPresent"),
            "command": ["bash", "--noprofile", "--norc", "/runtime/script.sh"],
            "workingDir": "/data",
            "env": env,
            "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu, "memory": memory}},
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "privileged": False,
                "capabilities": {"drop": ["ALL"]},
                "runAsNonRoot": True,
            },
            "volumeMounts": mounts,
        }
        pod_spec: dict[str, Any] = {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "terminationGracePeriodSeconds": 10,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": uid,
                "runAsGroup": gid,
                "fsGroup": gid,
                # The shared claim is big: never chown it through, only check its root.
                "fsGroupChangePolicy": "OnRootMismatch",
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [container],
            "volumes": volumes,
            **placement(scheduling_class),
        }
        node = workspace_node()
        if node is not None:  # a ReadWriteOnce workspace is mounted only where its flow run is
            pin_to_node(pod_spec, node)
        pull_secrets = _setting("KUBERNETES_IMAGE_PULL_SECRETS", [])
        if pull_secrets:
            pod_spec["imagePullSecrets"] = [{"name": str(s)} for s in pull_secrets]
        spec: dict[str, Any] = {
            "backoffLimit": 0,
            "completions": 1,
            "parallelism": 1,
            "ttlSecondsAfterFinished": int(_setting("KUBERNETES_JOB_TTL", 600)),
            "template": {"metadata": {"labels": pod_labels}, "spec": pod_spec},
        }
        if job.timeout is not None:
            spec["activeDeadlineSeconds"] = max(1, math.ceil(job.timeout))
        metadata: dict[str, Any] = {"name": name, "namespace": namespace(), "labels": labels}
        owner = self.owner_reference()
        if owner is not None:
            metadata["ownerReferences"] = [owner]
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": spec}

    @staticmethod
    def owner_reference() -> dict | None:
        """The flow-run pod we run in (downward API env of the base job template), so its deletion takes the program along."""
        pod_name, pod_uid = os.environ.get("RESOLWE_PREFECT_POD_NAME"), os.environ.get("RESOLWE_PREFECT_POD_UID")
        if not pod_name or not pod_uid:
            return None
        return {"apiVersion": "v1", "kind": "Pod", "name": pod_name, "uid": pod_uid, "blockOwnerDeletion": False}

    def secret_manifest(self, job: ProgramJob, *, name: str) -> dict:
        """The per-run ``v1`` Secret with the files of ``job.secrets_dir`` (``name`` is the Job's)."""
        if job.secrets_dir is None:
            raise ValueError("The job has no secrets.")
        files = read_secret_files(job.secrets_dir)
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "immutable": True,
            "metadata": {"name": secrets_name(name), "namespace": namespace(), "labels": self.labels(job, name)},
            "data": {key: base64.b64encode(value).decode() for key, value in files.items()},
        }

    def channel_secret_manifest(self, job: ProgramJob, *, name: str) -> dict:
        """The per-run ``v1`` Secret with the channel's token, read by the program as ``RESOLWE_CHANNEL_TOKEN``."""
        if job.channel_token is None:
            raise ValueError("The job has no channel token.")
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "immutable": True,
            "metadata": {
                "name": channel_secret_name(name),
                "namespace": namespace(),
                "labels": self.labels(job, name),
            },
            "data": {"token": base64.b64encode(job.channel_token.encode()).decode()},
        }

    # --- running -------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _apis(self):
        """``(CoreV1Api, BatchV1Api)`` of one ApiClient, closed after the run."""
        if self._api_factory is not None:
            async with self._api_factory() as apis:
                yield apis
            return
        from kubernetes_asyncio import client

        async with client.ApiClient(configuration=self._configuration) as api:
            yield client.CoreV1Api(api), client.BatchV1Api(api)

    async def _load_configuration(self) -> None:
        if self._api_factory is not None or self._configuration is not None:
            return
        from kubernetes_asyncio import client, config

        configuration = client.Configuration()
        try:
            config.load_incluster_config(client_configuration=configuration)
        except config.ConfigException:
            await config.load_kube_config(client_configuration=configuration)
        self._configuration = configuration

    async def run(self, job: ProgramJob, on_output: OutputLine) -> ProgramResult:
        scheduling_class = job.scheduling_class
        name = job_name(job)
        try:
            (job.runtime_dir / "script.sh").write_text(job.script)
            identity = self.identity(job)
            identity_files(identity, job.runtime_dir / "identity")
            give_to_program(identity, job.data_dir, job.runtime_dir)
            utilities_map = utilities_configmap()
            runtime = stage_python_runtime() if needs_python_runtime(job.language) else None
            tools = tools_sub_paths(stage=True)
            manifest = self.job_manifest(
                job,
                scheduling_class=scheduling_class,
                name=name,
                utilities_name=utilities_map["metadata"]["name"],
                python_runtime=runtime,
                tools=tools,
            )
            secrets = []
            if job.secrets_dir is not None:
                secrets.append(self.secret_manifest(job, name=name))
            if job.channel_token is not None:
                secrets.append(self.channel_secret_manifest(job, name=name))
            await self._load_configuration()
        except (OSError, ValueError, KeyError, ImportError) as error:
            return ProgramResult(1, f"Could not prepare the Kubernetes Job: {error}")
        except Exception as error:  # noqa: BLE001 - no kubeconfig, no in-cluster config
            return ProgramResult(1, f"Could not configure the Kubernetes client: {error}")

        from kubernetes_asyncio import client

        ns = manifest["metadata"]["namespace"]
        async with self._apis() as (core, batch):
            created_job = False
            created_secrets: list[str] = []
            try:
                try:
                    await self._ensure_configmap(core, ns, utilities_map)
                    for secret in secrets:
                        await core.create_namespaced_secret(ns, secret)
                        created_secrets.append(secret["metadata"]["name"])
                    created = await batch.create_namespaced_job(ns, manifest)
                    created_job = True
                    for secret in secrets:
                        await self._adopt_secret(core, ns, secret, created)
                except client.ApiException as error:
                    return ProgramResult(1, f"Could not create the Kubernetes Job: {_api_error(error)}")
                guard = None if job.timeout is None else job.timeout + 60
                try:
                    return await asyncio.wait_for(self._follow(core, batch, ns, name, job, on_output), timeout=guard)
                except TimeoutError:
                    return ProgramResult(137, f"Process exceeded the time limit of {job.timeout:g} s.")
                except client.ApiException as error:
                    return ProgramResult(1, f"Lost track of the Kubernetes Job {name}: {_api_error(error)}")
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the run's error, never the flow's
                return ProgramResult(1, f"Kubernetes backend error: {error}")
            finally:
                await self._cleanup(core, batch, ns, name, created_job, created_secrets)
                seal(job.data_dir)

    async def _ensure_configmap(self, core, ns: str, configmap: dict) -> None:
        from kubernetes_asyncio import client

        try:
            await core.create_namespaced_config_map(ns, configmap)
        except client.ApiException as error:
            if error.status != 409:  # another run made it already
                raise

    async def _adopt_secret(self, core, ns: str, secret: dict, created_job) -> None:
        """Make the Job own its Secret, so Kubernetes removes it even when we cannot."""
        owner = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "name": created_job.metadata.name,
            "uid": created_job.metadata.uid,
            "blockOwnerDeletion": False,
        }
        await core.patch_namespaced_secret(secret["metadata"]["name"], ns, {"metadata": {"ownerReferences": [owner]}})

    async def _cleanup(self, core, batch, ns: str, name: str, created_job: bool, created_secrets: list[str]) -> None:
        if created_job:
            try:
                await batch.delete_namespaced_job(name, ns, propagation_policy="Background")
            except Exception:  # noqa: BLE001, S110 - cleanup must not hide the result; the Job's TTL removes it
                pass
        for secret_name in created_secrets:
            try:
                await core.delete_namespaced_secret(secret_name, ns)
            except Exception:  # noqa: BLE001, S110 - owned by the Job: garbage-collected with it
                pass

    async def _follow(self, core, batch, ns: str, name: str, job: ProgramJob, on_output: OutputLine) -> ProgramResult:
        """Wait for the pod, relay its output, and read how it ended."""
        started = await self._wait_for_start(core, batch, ns, name, job)
        if isinstance(started, ProgramResult):
            return started
        pod_name = started
        since: int | None = None
        while True:
            connected = time.time()
            last_output = await self._stream_logs(core, ns, pod_name, on_output, since)
            result = await self._outcome(core, batch, ns, name, pod_name, job)
            if result is not None:
                return result
            # The log connection dropped while the program still runs: pick up where it broke
            # (lines of the last second may come twice).
            await asyncio.sleep(POLL_SECONDS)
            since = max(1, int(time.time() - (last_output or connected)) + 1)

    async def _wait_for_start(self, core, batch, ns: str, name: str, job: ProgramJob) -> str | ProgramResult:
        """The pod's name once its container runs (or ran), or the reason it will not."""
        deadline = time.monotonic() + float(_setting("KUBERNETES_START_TIMEOUT", 1800))
        last_reason = "no pod yet"
        while time.monotonic() < deadline:
            failed = _job_failure(await batch.read_namespaced_job(name, ns), job)
            if failed is not None:
                return failed
            pods = (await core.list_namespaced_pod(ns, label_selector=f"resolwe.io/run={name}")).items or []
            for pod in pods:
                status = pod.status
                state = _container_state(pod)
                if state is not None and (state.running is not None or state.terminated is not None):
                    return pod.metadata.name
                if state is not None and state.waiting is not None:
                    last_reason = f"{state.waiting.reason}: {state.waiting.message or ''}".strip(": ")
                    if state.waiting.reason in FATAL_WAITING:
                        return ProgramResult(1, f"The program's container could not start ({last_reason}).")
                if status is not None and status.phase == "Failed":
                    return ProgramResult(
                        1,
                        f"The program's pod failed before it started: {status.reason or ''} {status.message or ''}".strip(),
                    )
                for condition in (status.conditions or []) if status is not None else []:
                    if condition.type == "PodScheduled" and condition.status == "False":
                        last_reason = f"{condition.reason}: {condition.message or ''}".strip(": ")
            await asyncio.sleep(POLL_SECONDS)
        return ProgramResult(1, f"The program's pod did not start in time ({last_reason}).")

    async def _stream_logs(
        self, core, ns: str, pod_name: str, on_output: OutputLine, since: int | None
    ) -> float | None:
        """Relay the container's output line by line until the stream ends; when the last chunk came."""
        kwargs: dict[str, Any] = {"container": CONTAINER, "follow": True, "_preload_content": False}
        if since is not None:
            kwargs["since_seconds"] = since
        response = await core.read_namespaced_pod_log(pod_name, ns, **kwargs)
        last_output = None
        try:
            if getattr(response, "status", 200) >= 400:
                return None
            pending = b""
            async for chunk in response.content.iter_any():
                last_output = time.time()
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    await _emit(on_output, (line + b"\n").decode(errors="replace"))
            if pending:
                await _emit(on_output, pending.decode(errors="replace"))
        finally:
            response.release()
        return last_output

    async def _outcome(self, core, batch, ns: str, name: str, pod_name: str, job: ProgramJob) -> ProgramResult | None:
        """How the program ended, or ``None`` while it still runs."""
        from kubernetes_asyncio import client

        for _attempt in range(30):
            failed = _job_failure(await batch.read_namespaced_job(name, ns), job)
            if failed is not None and failed.message and "time limit" in failed.message:
                return failed
            try:
                pod = await core.read_namespaced_pod(pod_name, ns)
            except client.ApiException as error:
                if error.status == 404:
                    return failed or ProgramResult(1, "The program's pod disappeared before it finished.")
                raise
            state = _container_state(pod)
            if state is not None and state.terminated is not None:
                code = int(state.terminated.exit_code)
                if state.terminated.reason == "OOMKilled":
                    return ProgramResult(
                        code or 137, f"Process was killed: it ran out of memory (limit {job.memory_mb} MB)."
                    )
                if code < 0 or (state.terminated.signal or 0):
                    return ProgramResult(
                        code or 128 + int(state.terminated.signal),
                        f"Process was killed by signal {state.terminated.signal or -code}.",
                    )
                return ProgramResult(code)
            if state is not None and state.running is not None:
                return None
            if failed is not None:
                return failed
            await asyncio.sleep(POLL_SECONDS)
        return ProgramResult(1, "Could not read how the program's container ended.")


def _container_state(pod):
    for status in (pod.status.container_statuses or []) if pod.status is not None else []:
        if status.name == CONTAINER:
            return status.state
    return None


def _job_failure(job_object, job: ProgramJob) -> ProgramResult | None:
    """A failed Job's reason as a result (the time limit like the other backends)."""
    for condition in (job_object.status.conditions or []) if job_object.status is not None else []:
        if condition.type == "Failed" and condition.status == "True":
            if condition.reason == "DeadlineExceeded":
                limit = job_object.spec.active_deadline_seconds if job.timeout is None else job.timeout
                return ProgramResult(137, f"Process exceeded the time limit of {limit:g} s.")
            return ProgramResult(
                1, f"The program's Job failed: {condition.reason}: {condition.message or ''}".strip(": ")
            )
    return None


def _api_error(error) -> str:
    body = getattr(error, "body", "") or ""
    if isinstance(body, bytes):
        body = body.decode(errors="replace")
    return f"{error.status} {error.reason}: {body[:500]}".strip(": ")


async def _emit(on_output: OutputLine, line: str) -> None:
    result = on_output(line)
    if inspect.isawaitable(result):
        await result
