"""Helpers of the Kubernetes tests: offline validation, program jobs and the parts of a manifest."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from resolwe_prefect.execution.backends import ProgramJob
from resolwe_prefect.execution.backends.base import BIN_MOUNT

K8S_VERSION = "1.30"
DEPLOYMENTS = Path(__file__).resolve().parents[2] / "deployments" / "kubernetes"
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")


def validate(manifest: dict) -> None:
    kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
    for value in manifest["metadata"].get("labels", {}).values():
        assert LABEL_VALUE.match(value), value


@pytest.fixture
def volume(settings, tmp_path):
    """A state directory that stands for the shared claim's root, with Data directories under it."""
    settings.STATE_DIR = tmp_path
    settings.FLOW_EXECUTOR = {
        **settings.FLOW_EXECUTOR,
        "DATA_DIR": tmp_path / "data",
        "KUBERNETES_NAMESPACE": "resolwe",
        "DOCKER_DEFAULT_IMAGE": "resolwe-prefect/base:bookworm-py",
    }
    for key in ("KUBERNETES_PLACEMENT", "KUBERNETES_USER", "KUBERNETES_VOLUME_ROOT", "KUBERNETES_DATA_PVC"):
        settings.FLOW_EXECUTOR.pop(key, None)
    return tmp_path


def make_job(root: Path, data_id: int = 42, **kwargs) -> ProgramJob:
    data_dir, runtime_dir = root / "data" / str(data_id), root / "runtime" / str(data_id)
    data_dir.mkdir(parents=True)
    (runtime_dir / "tmp").mkdir(parents=True)
    kwargs.setdefault("env", {"PATH": f"{BIN_MOUNT}:/usr/bin:/bin", "HOME": "/data", "RESOLWE_DATA_ID": str(data_id)})
    return ProgramJob(data_id=data_id, script="echo hello\n", data_dir=data_dir, runtime_dir=runtime_dir, **kwargs)


def pod_spec(manifest: dict) -> dict:
    return manifest["spec"]["template"]["spec"]


def mounts(manifest: dict) -> dict[str, dict]:
    return {m["mountPath"]: m for m in pod_spec(manifest)["containers"][0]["volumeMounts"]}


def volumes(manifest: dict) -> dict[str, dict]:
    return {v["name"]: v for v in pod_spec(manifest)["volumes"]}


def render_flow_run_job(template: dict, values: dict, flow_run: Any) -> dict:
    """The flow-run Job the Prefect worker makes of a pool's base job template, validated strictly."""
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect_kubernetes.worker import KubernetesWorkerJobConfiguration

    async def render() -> dict:
        configuration = await KubernetesWorkerJobConfiguration.from_template_and_values(template, values, client=None)
        configuration.prepare_for_flow_run(flow_run)
        return configuration.job_manifest

    with temporary_settings({PREFECT_API_URL: "http://prefect.invalid:4200/api"}):
        manifest = asyncio.run(render())
    pod = manifest["spec"]["template"]["spec"]
    # prefect-kubernetes insists on parallelism/completions in the pod spec (its own validator
    # requires them there); the API server drops them. They are the only fields strict validation
    # refuses, and only there.
    assert (pod.pop("parallelism"), pod.pop("completions")) == (1, 1)
    validate(manifest)
    return manifest
