"""The Kubernetes backend without a cluster.

Every manifest is rendered and validated offline against the Kubernetes 1.30
schemas (strict: no unknown fields); the work pool's flow-run Job is rendered
the way the Prefect worker renders it. ``run`` is driven against fake API
objects: the control flow (create, wait, stream, map the end, clean up) is
covered, the conversation with a real API server is not.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from resolwe_prefect.execution.backends import ProgramJob, get_backend, kubernetes
from resolwe_prefect.execution.backends.base import PYTHON_MOUNT, ChannelEndpoint
from resolwe_prefect.execution.backends.identity import DEFAULT_RUN_UID_BASE
from resolwe_prefect.execution.backends.kubernetes import (
    BIN_MOUNT,
    DEFAULT_PLACEMENT,
    KubernetesBackend,
    utilities_configmap,
)
from tests.execution.kubernetes_manifests import (
    DEPLOYMENTS,
    DNS_LABEL,
    make_job,
    mounts,
    pod_spec,
    render_flow_run_job,
    validate,
    volumes,
)

# --- manifests -------------------------------------------------------------------------------


def test_registered_as_kubernetes():
    assert isinstance(get_backend("kubernetes"), KubernetesBackend)
    assert get_backend("kubernetes").bin_dir() == BIN_MOUNT


def test_batch_job_manifest(volume):
    job = make_job(volume, cores=2, memory_mb=8192)
    manifest = KubernetesBackend().job_manifest(job)
    validate(manifest)

    meta = manifest["metadata"]
    assert re.fullmatch(r"resolwe-data-42-[0-9a-f]{6}", meta["name"]) and DNS_LABEL.match(meta["name"])
    assert meta["namespace"] == "resolwe"
    assert meta["labels"]["app.kubernetes.io/name"] == "resolwe-prefect"
    assert meta["labels"]["resolwe.io/data-id"] == "42"
    spec = manifest["spec"]
    assert spec["backoffLimit"] == 0
    assert spec["ttlSecondsAfterFinished"] > 0
    assert "activeDeadlineSeconds" not in spec
    pod_labels = spec["template"]["metadata"]["labels"]
    assert pod_labels["resolwe.io/data-id"] == "42" and pod_labels["resolwe.io/scheduling-class"] == "BA"
    assert pod_labels["resolwe.io/network"] == "none"

    pod = pod_spec(manifest)
    assert pod["restartPolicy"] == "Never"
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"] == {
        # Every run has a uid of its own, as with the local and Docker backends.
        "runAsNonRoot": True,
        "runAsUser": DEFAULT_RUN_UID_BASE + 42,
        "runAsGroup": DEFAULT_RUN_UID_BASE + 42,
        "fsGroup": DEFAULT_RUN_UID_BASE + 42,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    (container,) = pod["containers"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["resources"] == {
        "requests": {"cpu": "2", "memory": "8192Mi"},
        "limits": {"cpu": "2", "memory": "8192Mi"},
    }
    assert container["image"] == "resolwe-prefect/base:bookworm-py"
    assert container["command"] == ["bash", "--noprofile", "--norc", "/runtime/script.sh"]
    assert container["workingDir"] == "/data"
    assert {e["name"]: e["value"] for e in container["env"]} == job.env

    assert mounts(manifest) == {
        "/data": {"name": "data", "mountPath": "/data", "subPath": "data/42"},
        "/runtime": {"name": "data", "mountPath": "/runtime", "subPath": "runtime/42"},
        BIN_MOUNT: {"name": "utilities", "mountPath": BIN_MOUNT, "readOnly": True},
        "/etc/passwd": {
            "name": "data",
            "mountPath": "/etc/passwd",
            "subPath": "runtime/42/identity/passwd",
            "readOnly": True,
        },
        "/etc/group": {
            "name": "data",
            "mountPath": "/etc/group",
            "subPath": "runtime/42/identity/group",
            "readOnly": True,
        },
    }
    assert volumes(manifest)["data"] == {"name": "data", "persistentVolumeClaim": {"claimName": "resolwe-data"}}
    utilities = volumes(manifest)["utilities"]["configMap"]
    assert utilities == {"name": utilities_configmap()["metadata"]["name"], "defaultMode": 0o755}
    # The default batch placement.
    assert pod["priorityClassName"] == "resolwe-batch"
    assert pod["tolerations"] == DEFAULT_PLACEMENT["BA"]["tolerations"]


def test_image_of_the_process_and_names_per_attempt(volume):
    job = make_job(volume, image="ghcr.io/genialis/resolwebio/rnaseq:6.0.0")
    backend = KubernetesBackend()
    first, second = backend.job_manifest(job), backend.job_manifest(job)
    assert pod_spec(first)["containers"][0]["image"] == "ghcr.io/genialis/resolwebio/rnaseq:6.0.0"
    assert first["metadata"]["name"] != second["metadata"]["name"]


def test_inputs_are_mounted_read_only_and_paths_map_like_docker(volume):
    inputs = [volume / "data" / "7", volume / "data" / "9"]
    for directory in inputs:
        directory.mkdir(parents=True)
    job = make_job(volume, input_dirs=inputs, network=True)
    backend = KubernetesBackend()
    manifest = backend.job_manifest(job)
    validate(manifest)
    assert mounts(manifest)["/inputs/7"] == {
        "name": "data",
        "mountPath": "/inputs/7",
        "subPath": "data/7",
        "readOnly": True,
    }
    assert mounts(manifest)["/inputs/9"]["subPath"] == "data/9"
    assert "readOnly" not in mounts(manifest)["/data"]
    assert manifest["spec"]["template"]["metadata"]["labels"]["resolwe.io/network"] == "allowed"

    dirs = {"data_dir": job.data_dir, "runtime_dir": job.runtime_dir}
    assert backend.program_path(job.data_dir / "out.txt", **dirs) == "/data/out.txt"
    assert backend.program_path(job.data_dir, **dirs) == "/data"
    assert backend.program_path(job.runtime_dir / "commands", **dirs) == "/runtime/commands"
    assert backend.program_path(volume / "data" / "7" / "reads.fq", **dirs) == "/inputs/7/reads.fq"
    with pytest.raises(ValueError):
        backend.program_path(Path("/etc/passwd"), **dirs)


def test_directories_off_the_shared_volume_are_refused(volume, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    job = make_job(volume)
    job.input_dirs = [elsewhere]
    with pytest.raises(ValueError, match="not on the shared volume"):
        KubernetesBackend().job_manifest(job)


def test_volume_root_and_claim_are_settings(volume, settings):
    settings.FLOW_EXECUTOR = {
        **settings.FLOW_EXECUTOR,
        "KUBERNETES_VOLUME_ROOT": volume.parent,
        "KUBERNETES_DATA_PVC": "lab-data",
    }
    manifest = KubernetesBackend().job_manifest(make_job(volume))
    assert mounts(manifest)["/data"]["subPath"] == f"{volume.name}/data/42"
    assert volumes(manifest)["data"]["persistentVolumeClaim"]["claimName"] == "lab-data"


def test_secrets_become_a_secret_mounted_at_secrets(volume):
    from resolwe_prefect.secrets.services import remove_secret_files, write_secret_files

    job = make_job(volume)
    job.secrets_dir = job.runtime_dir / "secrets"
    write_secret_files({"b3c1e0d4-token": "s3cr3t\n", "api-key": "k"}, job.secrets_dir)
    try:
        backend = KubernetesBackend()
        manifest = backend.job_manifest(job)
        secret = backend.secret_manifest(job, name=manifest["metadata"]["name"])
        validate(manifest)
        validate(secret)
        # The directory stays as unlistable as write_secret_files left it.
        assert job.secrets_dir.stat().st_mode & 0o777 == 0o300
    finally:
        remove_secret_files(job.secrets_dir)

    assert secret["metadata"]["name"] == f"{manifest['metadata']['name']}-secrets"
    assert secret["metadata"]["namespace"] == "resolwe" and secret["immutable"] is True
    assert {k: base64.b64decode(v).decode() for k, v in secret["data"].items()} == {
        "b3c1e0d4-token": "s3cr3t\n",
        "api-key": "k",
    }
    assert volumes(manifest)["secrets"]["secret"] == {"secretName": secret["metadata"]["name"], "defaultMode": 0o440}
    assert mounts(manifest)["/secrets"] == {"name": "secrets", "mountPath": "/secrets", "readOnly": True}
    # The files themselves sit under the run directory on the shared volume: hidden from the program.
    assert mounts(manifest)["/runtime/secrets"]["name"] == "secrets-mask"
    assert volumes(manifest)["secrets-mask"]["emptyDir"]["medium"] == "Memory"


def test_no_secrets_no_secret_volume(volume):
    job = make_job(volume)
    manifest = KubernetesBackend().job_manifest(job)
    assert "secrets" not in volumes(manifest) and "/secrets" not in mounts(manifest)
    with pytest.raises(ValueError):
        KubernetesBackend().secret_manifest(job, name="x")


def test_interactive_job_has_a_deadline_and_its_placement(volume):
    job = make_job(volume, timeout=300.5)
    manifest = KubernetesBackend().job_manifest(job, scheduling_class="IN")
    validate(manifest)
    assert manifest["spec"]["activeDeadlineSeconds"] == 301
    pod = pod_spec(manifest)
    assert pod["priorityClassName"] == "resolwe-interactive"
    assert "tolerations" not in pod
    preferred = pod["affinity"]["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert preferred[0]["preference"]["matchExpressions"][0]["values"] == ["interactive"]
    assert manifest["spec"]["template"]["metadata"]["labels"]["resolwe.io/scheduling-class"] == "IN"


def test_placement_comes_from_the_setting(volume, settings):
    settings.FLOW_EXECUTOR = {
        **settings.FLOW_EXECUTOR,
        "KUBERNETES_PLACEMENT": {
            "IN": {"nodeSelector": {"pool": "fast"}, "priorityClassName": "high"},
            "BA": {
                "nodeSelector": {"pool": "spot"},
                "tolerations": [{"key": "spot", "operator": "Equal", "value": "true", "effect": "NoSchedule"}],
            },
        },
    }
    backend = KubernetesBackend()
    interactive = backend.job_manifest(make_job(volume, 1), scheduling_class="IN")
    batch = backend.job_manifest(make_job(volume, 2), scheduling_class="BA")
    unknown = backend.job_manifest(make_job(volume, 3), scheduling_class="XX")
    for manifest in (interactive, batch, unknown):
        validate(manifest)
    assert pod_spec(interactive)["nodeSelector"] == {"pool": "fast"}
    assert pod_spec(interactive)["priorityClassName"] == "high"
    assert pod_spec(batch)["nodeSelector"] == {"pool": "spot"}
    assert pod_spec(batch)["tolerations"][0]["key"] == "spot"
    assert "priorityClassName" not in pod_spec(batch)
    assert pod_spec(unknown)["nodeSelector"] == {"pool": "spot"}

    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "KUBERNETES_PLACEMENT": {"BA": {"hostNetwork": True}}}
    with pytest.raises(ValueError, match="not placement"):
        backend.job_manifest(make_job(volume, 4))


def test_user_comes_from_the_setting(volume, settings):
    settings.FLOW_EXECUTOR = {**settings.FLOW_EXECUTOR, "KUBERNETES_USER": "2000:3000"}
    context = pod_spec(KubernetesBackend().job_manifest(make_job(volume)))["securityContext"]
    assert (context["runAsUser"], context["runAsGroup"], context["fsGroup"]) == (2000, 3000, 3000)


def test_owner_is_the_flow_run_pod_when_known(volume, monkeypatch):
    monkeypatch.setenv("RESOLWE_PREFECT_POD_NAME", "brave-otter-x7k2p")
    monkeypatch.setenv("RESOLWE_PREFECT_POD_UID", "0b4c7f0e-8a51-4c55-9a1e-3c8d1f2e9b10")
    manifest = KubernetesBackend().job_manifest(make_job(volume))
    validate(manifest)
    (owner,) = manifest["metadata"]["ownerReferences"]
    assert owner["kind"] == "Pod" and owner["name"] == "brave-otter-x7k2p"


def test_utilities_configmap(volume):
    from resolwe_prefect.runtime.preamble import UTILITIES, bin_dir

    configmap = utilities_configmap()
    validate(configmap)
    assert set(UTILITIES) | {"_re_lib.sh"} <= set(configmap["data"])
    assert configmap["data"]["re-save"] == (Path(bin_dir()) / "re-save").read_text()
    assert len(json.dumps(configmap).encode()) < 1024 * 1024  # a ConfigMap's limit
    assert DNS_LABEL.match(configmap["metadata"]["name"])
    assert utilities_configmap()["metadata"]["name"] == configmap["metadata"]["name"]


# --- the work pool and the cluster objects --------------------------------------------------------


def test_work_pool_job_template_renders_a_valid_flow_run_job():
    from prefect.client.schemas.objects import FlowRun

    template = json.loads((DEPLOYMENTS / "base-job-template.json").read_text())
    values = {
        "env": {"RESOLWE_PREFECT_LOG_LEVEL": "DEBUG"},
        "cpu_limit": "1",
        "image": "registry.example/resolwe-prefect/flow:1",
    }
    flow_run = FlowRun(id=uuid.uuid4(), name="brave-otter", flow_id=uuid.uuid4())
    manifest = render_flow_run_job(template, values, flow_run)
    pod = manifest["spec"]["template"]["spec"]

    assert manifest["metadata"]["namespace"] == "resolwe"
    assert manifest["metadata"]["labels"]["prefect.io/flow-run-id"] == str(flow_run.id)
    assert manifest["spec"]["backoffLimit"] == 0
    assert pod["serviceAccountName"] == "resolwe-flow"
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["image"] == "registry.example/resolwe-prefect/flow:1"
    assert container["args"] == ["prefect", "flow-run", "execute"]
    assert container["resources"] == {
        "limits": {"cpu": "1", "memory": "1Gi"},
        "requests": {"cpu": "250m", "memory": "512Mi"},
    }
    env = {e["name"]: e for e in container["env"]}
    assert env["PREFECT_API_URL"]["value"] == "http://prefect.invalid:4200/api"
    assert env["RESOLWE_PREFECT_BACKEND"]["value"] == "kubernetes"
    assert env["RESOLWE_PREFECT_LOG_LEVEL"]["value"] == "DEBUG"
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "resolwe-prefect-db"
    assert env["RESOLWE_PREFECT_POD_UID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.uid"
    # Where the programs of Python processes reach the flow run's channel.
    assert env["RESOLWE_PREFECT_POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    home = env["RESOLWE_PREFECT_HOME"]["value"]
    assert container["volumeMounts"] == [{"name": "data", "mountPath": home}]
    assert pod["volumes"] == [{"name": "data", "persistentVolumeClaim": {"claimName": "resolwe-data"}}]


@pytest.mark.parametrize("path", sorted(DEPLOYMENTS.glob("*.yaml")), ids=lambda p: p.name)
def test_cluster_objects_are_valid(path):
    documents = [d for d in yaml.safe_load_all(path.read_text()) if d]
    assert documents
    for document in documents:
        validate(document)


def test_cluster_objects_match_the_backend_defaults():
    objects = {
        (d["kind"], d["metadata"]["name"]): d
        for path in DEPLOYMENTS.glob("*.yaml")
        for d in yaml.safe_load_all(path.read_text())
        if d
    }
    assert objects[("PersistentVolumeClaim", "resolwe-data")]["spec"]["accessModes"] == ["ReadWriteMany"]
    for placement in DEFAULT_PLACEMENT.values():
        assert ("PriorityClass", placement["priorityClassName"]) in objects
    rules = objects[("Role", "resolwe-flow")]["rules"]
    granted = {(resource, verb) for rule in rules for resource in rule["resources"] for verb in rule["verbs"]}
    assert {
        ("jobs", "create"),
        ("jobs", "delete"),
        ("pods", "list"),
        ("pods/log", "get"),
        ("configmaps", "create"),
        ("secrets", "create"),
        ("secrets", "patch"),
        ("secrets", "delete"),
    } <= granted
    policy = objects[("NetworkPolicy", "resolwe-program-no-network")]["spec"]
    assert policy["podSelector"]["matchLabels"]["resolwe.io/network"] == "none"
    # The channel: every program pod reaches flow-run pods over TCP, and flow-run pods take only them.
    program = {"app.kubernetes.io/name": "resolwe-prefect", "app.kubernetes.io/component": "program"}
    flow_run = {"app.kubernetes.io/name": "resolwe-prefect", "app.kubernetes.io/component": "flow-run"}
    egress = objects[("NetworkPolicy", "resolwe-program-channel")]["spec"]
    assert egress["podSelector"]["matchLabels"] == program
    assert egress["egress"] == [{"to": [{"podSelector": {"matchLabels": flow_run}}], "ports": [{"protocol": "TCP"}]}]
    ingress = objects[("NetworkPolicy", "resolwe-flow-run-channel")]["spec"]
    assert ingress["podSelector"]["matchLabels"] == flow_run
    assert ingress["ingress"] == [{"from": [{"podSelector": {"matchLabels": program}}], "ports": [{"protocol": "TCP"}]}]
    template = json.loads((DEPLOYMENTS / "base-job-template.json").read_text())
    flow_pod = template["job_configuration"]["job_manifest"]["spec"]["template"]["metadata"]["labels"]
    assert flow_pod == flow_run


# --- run() against fake API objects -------------------------------------------------------------


class FakeLog:
    def __init__(self, chunks: list[bytes]):
        self.status = 200
        self.content = SimpleNamespace(iter_any=self._iter)
        self._chunks = chunks
        self.released = False

    async def _iter(self):
        for chunk in self._chunks:
            yield chunk

    def release(self):
        self.released = True


class FakeCluster:
    """CoreV1Api and BatchV1Api in one: records calls, ends the container as told."""

    def __init__(self, *, exit_code=0, reason="Completed", job_failure=None, create_error=None, logs=(b"hello\n",)):
        self.calls: list[tuple] = []
        self.exit_code, self.reason, self.job_failure = exit_code, reason, job_failure
        self.create_error = create_error
        self.logs = list(logs)
        self.created: dict[str, dict] = {}

    @contextlib.asynccontextmanager
    async def apis(self):
        yield self, self

    async def create_namespaced_config_map(self, ns, body):
        from kubernetes_asyncio.client import ApiException

        self.calls.append(("create_configmap", body["metadata"]["name"]))
        raise ApiException(status=409, reason="AlreadyExists")

    async def create_namespaced_secret(self, ns, body):
        self.calls.append(("create_secret", body["metadata"]["name"]))
        self.created["secret"] = body

    async def patch_namespaced_secret(self, name, ns, body):
        self.calls.append(("patch_secret", name, body["metadata"]["ownerReferences"][0]["kind"]))

    async def create_namespaced_job(self, ns, body):
        if self.create_error is not None:
            raise self.create_error
        self.calls.append(("create_job", body["metadata"]["name"]))
        self.created["job"] = body
        return SimpleNamespace(metadata=SimpleNamespace(name=body["metadata"]["name"], uid="uid-1"))

    async def read_namespaced_job(self, name, ns):
        conditions = []
        if self.job_failure:
            conditions = [SimpleNamespace(type="Failed", status="True", reason=self.job_failure, message="")]
        return SimpleNamespace(
            status=SimpleNamespace(conditions=conditions), spec=SimpleNamespace(active_deadline_seconds=5)
        )

    def _pod(self):
        terminated = SimpleNamespace(exit_code=self.exit_code, reason=self.reason, signal=None)
        state = SimpleNamespace(running=None, waiting=None, terminated=terminated)
        return SimpleNamespace(
            metadata=SimpleNamespace(name="pod-1"),
            status=SimpleNamespace(
                phase="Succeeded",
                conditions=[],
                reason=None,
                message=None,
                container_statuses=[SimpleNamespace(name="program", state=state)],
            ),
        )

    async def list_namespaced_pod(self, ns, label_selector):
        self.calls.append(("list_pods", label_selector))
        return SimpleNamespace(items=[self._pod()])

    async def read_namespaced_pod(self, name, ns):
        return self._pod()

    async def read_namespaced_pod_log(self, name, ns, **kwargs):
        self.calls.append(("logs", name, kwargs.get("follow")))
        return FakeLog(self.logs)

    async def delete_namespaced_job(self, name, ns, propagation_policy=None):
        self.calls.append(("delete_job", name, propagation_policy))

    async def delete_namespaced_secret(self, name, ns):
        self.calls.append(("delete_secret", name))


@pytest.fixture(autouse=True)
def flow_pod_user(monkeypatch):
    """Flow-run pods run as the programs' own non-root user: nothing to hand over."""
    from resolwe_prefect.execution.backends import kubernetes

    monkeypatch.setattr(kubernetes.os, "geteuid", lambda: 1000)


def run(cluster: FakeCluster, job: ProgramJob):
    lines: list[str] = []
    result = asyncio.run(KubernetesBackend(api_factory=cluster.apis).run(job, lines.append))
    return result, lines


def test_run_streams_output_and_cleans_up(volume):
    cluster = FakeCluster(exit_code=3, reason="Error", logs=[b"one\ntw", b"o\nthree"])
    job = make_job(volume)
    result, lines = run(cluster, job)
    assert (result.return_code, result.message) == (3, None)
    assert lines == ["one\n", "two\n", "three"]
    assert (job.runtime_dir / "script.sh").read_text() == job.script
    name = cluster.created["job"]["metadata"]["name"]
    assert ("list_pods", f"resolwe.io/run={name}") in cluster.calls
    assert ("logs", "pod-1", True) in cluster.calls
    assert cluster.calls[-1] == ("delete_job", name, "Background")
    assert "create_secret" not in {c[0] for c in cluster.calls}
    assert cluster.created["job"]["spec"]["template"]["metadata"]["labels"]["resolwe.io/scheduling-class"] == "BA"


def test_run_with_secrets_creates_owns_and_deletes_the_secret(volume):
    from resolwe_prefect.secrets.services import write_secret_files

    cluster = FakeCluster()
    job = make_job(volume)
    job.secrets_dir = job.runtime_dir / "secrets"
    write_secret_files({"token": "x"}, job.secrets_dir)
    result, _lines = run(cluster, job)
    assert result.return_code == 0
    name = cluster.created["job"]["metadata"]["name"]
    kinds = [c[0] for c in cluster.calls]
    assert kinds.index("create_secret") < kinds.index("create_job") < kinds.index("patch_secret")
    assert ("patch_secret", f"{name}-secrets", "Job") in cluster.calls
    assert cluster.calls[-1] == ("delete_secret", f"{name}-secrets")


def test_run_reports_out_of_memory(volume):
    result, _lines = run(FakeCluster(exit_code=137, reason="OOMKilled"), make_job(volume, memory_mb=256))
    assert result.return_code == 137
    assert result.message == "Process was killed: it ran out of memory (limit 256 MB)."


def test_run_reports_the_time_limit(volume):
    cluster = FakeCluster(exit_code=137, reason="Error", job_failure="DeadlineExceeded")
    result, _lines = run(cluster, make_job(volume, timeout=5, scheduling_class="IN"))
    assert result.return_code == 137 and "time limit of 5 s" in result.message
    assert cluster.created["job"]["spec"]["activeDeadlineSeconds"] == 5
    assert cluster.created["job"]["spec"]["template"]["metadata"]["labels"]["resolwe.io/scheduling-class"] == "IN"


def test_run_does_not_raise_when_the_job_cannot_be_created(volume):
    from kubernetes_asyncio.client import ApiException

    cluster = FakeCluster(create_error=ApiException(status=403, reason="Forbidden"))
    result, lines = run(cluster, make_job(volume))
    assert result.return_code == 1 and "Could not create the Kubernetes Job: 403 Forbidden" in result.message
    assert lines == [] and "delete_job" not in {c[0] for c in cluster.calls}


def test_run_does_not_raise_for_paths_off_the_volume(volume, tmp_path_factory):
    job = make_job(volume)
    job.input_dirs = [tmp_path_factory.mktemp("elsewhere")]
    result, _lines = run(FakeCluster(), job)
    assert result.return_code == 1 and "not on the shared volume" in result.message


# --- run() through the real kubernetes_asyncio client, against a stand-in API server ----------


def test_run_through_kubernetes_asyncio_against_a_stand_in_api_server(volume):
    """The real client's requests (paths, bodies, query) and its models, served by a tiny aiohttp app.

    Not a cluster: no scheduler, no kubelet. It shows that the calls and the attributes
    the backend reads exist and mean what the backend thinks.
    """
    from aiohttp import web
    from kubernetes_asyncio import client

    from resolwe_prefect.secrets.services import write_secret_files

    requests: list[tuple[str, str, dict]] = []
    patches: list[tuple[str, dict]] = []
    status = {"name": "program", "image": "i", "imageID": "", "ready": False, "restartCount": 0}

    def pod(name: str, state: dict) -> dict:
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": "resolwe"},
            "status": {"phase": "Running", "containerStatuses": [{**status, "state": state}]},
        }

    async def handler(request: web.Request) -> web.StreamResponse:
        body = await request.json() if request.can_read_body else {}
        requests.append((request.method, request.path, dict(request.query)))
        path = request.path
        if request.method in ("POST", "PATCH"):
            body.setdefault("metadata", {})["uid"] = "uid-1"
            patches.append((request.headers["Content-Type"], body))
            return web.json_response(body, status=201 if request.method == "POST" else 200)
        if request.method == "DELETE":
            return web.json_response({"kind": "Status", "apiVersion": "v1", "status": "Success"})
        if path.endswith("/log"):
            response = web.StreamResponse()
            await response.prepare(request)
            for chunk in (b"first line\nsec", b"ond line\n", b"no newline"):
                await response.write(chunk)
            await response.write_eof()
            return response
        if path.startswith("/apis/batch/v1/") and "/jobs/" in path:
            return web.json_response(
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "metadata": {"name": path.rsplit("/", 1)[1]},
                    "spec": {"template": {"spec": {"containers": []}}},
                    "status": {"active": 1},
                }
            )
        if path.endswith("/pods"):
            return web.json_response(
                {
                    "apiVersion": "v1",
                    "kind": "PodList",
                    "metadata": {},
                    "items": [pod("pod-1", {"running": {"startedAt": "2024-01-01T00:00:00Z"}})],
                }
            )
        if path.endswith("/pods/pod-1"):
            return web.json_response(pod("pod-1", {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}))
        return web.json_response({"kind": "Status", "code": 404}, status=404)

    async def scenario():
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        try:
            backend = KubernetesBackend()
            backend._configuration = client.Configuration(host=f"http://127.0.0.1:{port}")
            lines: list[str] = []
            job = make_job(volume, memory_mb=512)
            job.secrets_dir = job.runtime_dir / "secrets"
            write_secret_files({"token": "x"}, job.secrets_dir)
            result = await backend.run(job, lines.append)
            return result, lines
        finally:
            await runner.cleanup()

    result, lines = asyncio.run(scenario())
    assert lines == ["first line\n", "second line\n", "no newline"]
    assert result.return_code == 137 and "ran out of memory (limit 512 MB)" in result.message
    seen = [(method, path) for method, path, _query in requests]
    assert ("POST", "/api/v1/namespaces/resolwe/configmaps") in seen
    assert ("POST", "/apis/batch/v1/namespaces/resolwe/jobs") in seen
    (log_query,) = [q for m, p, q in requests if p == "/api/v1/namespaces/resolwe/pods/pod-1/log"]
    assert log_query["follow"].lower() == "true" and log_query["container"] == "program"
    (list_query,) = {tuple(q.items()) for m, p, q in requests if p == "/api/v1/namespaces/resolwe/pods"}
    assert dict(list_query)["labelSelector"].startswith("resolwe.io/run=resolwe-data-42-")
    ((patch_type, patch),) = [(t, b) for t, b in patches if "ownerReferences" in b["metadata"]]
    assert patch_type == "application/strategic-merge-patch+json"
    (owner,) = patch["metadata"]["ownerReferences"]
    assert (owner["apiVersion"], owner["kind"], owner["uid"]) == ("batch/v1", "Job", "uid-1")
    assert owner["name"].startswith("resolwe-data-42-")
    (job_delete,) = [(p, q) for m, p, q in requests if m == "DELETE" and "/jobs/" in p]
    assert job_delete[0].startswith("/apis/batch/v1/namespaces/resolwe/jobs/resolwe-data-42-")
    assert job_delete[1]["propagationPolicy"] == "Background"
    method, path, _query = requests[-1]
    assert method == "DELETE" and path.startswith("/api/v1/namespaces/resolwe/secrets/resolwe-data-42-")
    assert path.endswith("-secrets")


# --- Python processes: the runtime on the shared volume, the channel over TCP with a token ---------


def python_job(root: Path, **kwargs) -> ProgramJob:
    env = {"PATH": f"{BIN_MOUNT}:/usr/bin:/bin", "PYTHONPATH": PYTHON_MOUNT, "RESOLWE_CHANNEL": "tcp://10.1.2.3:41000"}
    return make_job(root, language="python", channel_token="per-run-token", env=env, **kwargs)


def test_python_job_mounts_the_runtime_and_reads_its_token_from_a_secret(volume, stub_python_runtime):
    job = python_job(volume)
    backend = KubernetesBackend()
    manifest = backend.job_manifest(job, python_runtime="python-runtime/0123456789abcdef")
    validate(manifest)
    name = manifest["metadata"]["name"]
    for mount in (PYTHON_MOUNT, "/python_runtime"):  # ours, and where Resolwe mounts it
        assert mounts(manifest)[mount] == {
            "name": "data",
            "mountPath": mount,
            "subPath": "python-runtime/0123456789abcdef",
            "readOnly": True,
        }
    env = {e["name"]: e for e in pod_spec(manifest)["containers"][0]["env"]}
    assert env["RESOLWE_CHANNEL"] == {"name": "RESOLWE_CHANNEL", "value": "tcp://10.1.2.3:41000"}
    assert env["RESOLWE_CHANNEL_TOKEN"] == {
        "name": "RESOLWE_CHANNEL_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": f"{name}-channel", "key": "token"}},
    }
    assert "per-run-token" not in json.dumps(manifest), "the token is in the Secret, not in the Job"
    secret = backend.channel_secret_manifest(job, name=name)
    validate(secret)
    assert secret["metadata"]["name"] == f"{name}-channel" and secret["immutable"] is True
    assert base64.b64decode(secret["data"]["token"]) == b"per-run-token"
    # Without a python_runtime the manifest names this runtime's content.
    default = backend.job_manifest(job)
    assert mounts(default)[PYTHON_MOUNT]["subPath"] == kubernetes.python_runtime_sub_path()
    bash = backend.job_manifest(make_job(volume, 43))
    assert PYTHON_MOUNT not in mounts(bash) and "/python_runtime" not in mounts(bash)
    assert "RESOLWE_CHANNEL_TOKEN" not in {e["name"] for e in pod_spec(bash)["containers"][0]["env"]}
    with pytest.raises(ValueError):
        backend.channel_secret_manifest(make_job(volume, 44), name="x")


def test_python_runtime_is_staged_on_the_shared_volume_once_per_content(volume, stub_python_runtime):
    sub = kubernetes.stage_python_runtime()
    assert re.fullmatch(r"python-runtime/[0-9a-f]{16}", sub)
    staged = volume / sub
    runner = stub_python_runtime / "resolwe" / "process" / "run.py"
    assert (staged / "resolwe" / "process" / "run.py").read_text() == runner.read_text()
    assert not (staged / "resolwe" / "process" / "__pycache__").exists(), "compiled files stay behind"
    assert oct(staged.stat().st_mode & 0o777) == oct(0o755)
    assert oct((staged / "resolwe" / "process" / "run.py").stat().st_mode & 0o777) == oct(0o644)
    assert kubernetes.stage_python_runtime() == sub
    assert [p.name for p in (volume / "python-runtime").iterdir()] == [sub.rsplit("/", 1)[1]]
    runner.write_text("print('changed')\n")
    assert kubernetes.stage_python_runtime() != sub


def test_channel_listens_on_the_flow_run_pods_address(volume, settings, monkeypatch):
    monkeypatch.setenv("RESOLWE_PREFECT_POD_IP", "10.1.2.3")
    assert KubernetesBackend().channel_endpoint() == ChannelEndpoint(bind="0.0.0.0", port=0, host="10.1.2.3")
    settings.FLOW_EXECUTOR = {
        **settings.FLOW_EXECUTOR,
        "KUBERNETES_CHANNEL_HOST": "flow.example",
        "KUBERNETES_CHANNEL_PORT": 7000,
    }
    assert KubernetesBackend().channel_endpoint() == ChannelEndpoint(bind="0.0.0.0", port=7000, host="flow.example")
    assert KubernetesBackend().python_path() == PYTHON_MOUNT


def test_run_of_a_python_job_creates_owns_and_deletes_the_channel_secret(volume, stub_python_runtime):
    cluster = FakeCluster()
    result, _lines = run(cluster, python_job(volume))
    assert result.return_code == 0
    name = cluster.created["job"]["metadata"]["name"]
    assert mounts(cluster.created["job"])[PYTHON_MOUNT]["subPath"] == kubernetes.python_runtime_sub_path()
    assert (volume / kubernetes.python_runtime_sub_path() / "resolwe" / "process" / "run.py").is_file()
    kinds = [c[0] for c in cluster.calls]
    assert kinds.index("create_secret") < kinds.index("create_job") < kinds.index("patch_secret")
    assert ("create_secret", f"{name}-channel") in cluster.calls
    assert ("patch_secret", f"{name}-channel", "Job") in cluster.calls
    assert cluster.calls[-1] == ("delete_secret", f"{name}-channel")


def test_run_of_a_python_job_without_the_runtime_is_the_runs_error(volume, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "resolwe_prefect.runtime.python_runtime", None)
    result, _lines = run(FakeCluster(), python_job(volume))
    assert result.return_code == 1 and result.message.startswith("Could not prepare the Kubernetes Job")


def test_resolwes_pull_policy_and_image_map_reach_the_pod(volume, settings):
    settings.FLOW_KUBERNETES_PULL_POLICY = "Always"
    settings.FLOW_CONTAINER_IMAGE_MAP = {"public.ecr.aws/s4q6j6e8/": "mirror.example/"}
    manifest = KubernetesBackend().job_manifest(make_job(volume, image="public.ecr.aws/s4q6j6e8/resolwe/base:x"))
    validate(manifest)
    container = pod_spec(manifest)["containers"][0]
    assert (container["image"], container["imagePullPolicy"]) == ("mirror.example/resolwe/base:x", "Always")
