"""Kubernetes without ReadWriteMany: a workspace per flow-run pod, its program pod on the same node.

Validated offline, as the rest of the Kubernetes layout: the pool's workspace template rendered
the way the Prefect worker renders it, and the program Jobs the backend writes for it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import uuid

import pytest

from resolwe_prefect.execution.backends.kubernetes import KubernetesBackend
from resolwe_prefect.execution.backends.kubernetes_volume import stage_tree, tools_sub_paths
from tests.execution.kubernetes_manifests import (
    DEPLOYMENTS,
    make_job,
    mounts,
    pod_spec,
    render_flow_run_job,
    validate,
    volumes,
)

WORKSPACE_TEMPLATE = DEPLOYMENTS / "base-job-template-workspace.json"


def test_the_workspace_template_is_the_base_template_with_a_workspace():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_workspace_template", DEPLOYMENTS / "make_workspace_template.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert WORKSPACE_TEMPLATE.read_text() == module.render(), "run deployments/kubernetes/make_workspace_template.py"


@pytest.mark.parametrize("storage_class", [None, "fast-local"])
def test_the_workspace_template_renders_a_flow_run_job_without_a_shared_claim(storage_class):
    values = {"image": "registry.example/resolwe-prefect/flow:1", "workspace_size": "20Gi"}
    if storage_class:
        values["workspace_storage_class"] = storage_class
    from prefect.client.schemas.objects import FlowRun

    flow_run = FlowRun(id=uuid.uuid4(), name="calm-heron", flow_id=uuid.uuid4())
    manifest = render_flow_run_job(json.loads(WORKSPACE_TEMPLATE.read_text()), values, flow_run)
    pod = manifest["spec"]["template"]["spec"]
    assert "persistentVolumeClaim" not in json.dumps(pod), "no claim is shared between pods"
    (workspace,) = pod["volumes"]
    claim = workspace["ephemeral"]["volumeClaimTemplate"]["spec"]
    assert workspace["name"] == "workspace"
    assert claim["accessModes"] == ["ReadWriteOnce"]
    assert claim["resources"] == {"requests": {"storage": "20Gi"}}
    assert claim.get("storageClassName") == storage_class, "unset: the cluster's default class"
    (container,) = pod["containers"]
    env = {e["name"]: e for e in container["env"]}
    names = [e["name"] for e in container["env"]]
    # $(VAR) expands only variables defined before it.
    assert names.index("RESOLWE_PREFECT_POD_NAME") < names.index("RESOLWE_PREFECT_WORKSPACE_CLAIM")
    assert env["RESOLWE_PREFECT_WORKSPACE_CLAIM"]["value"] == "$(RESOLWE_PREFECT_POD_NAME)-workspace"
    assert env["RESOLWE_PREFECT_NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    assert env["RESOLWE_PREFECT_STORAGE_LOCAL_SCRATCH"]["value"] == "1"
    assert container["volumeMounts"] == [{"name": "workspace", "mountPath": env["RESOLWE_PREFECT_HOME"]["value"]}]


@pytest.fixture
def in_a_workspace(monkeypatch):
    monkeypatch.setenv("RESOLWE_PREFECT_POD_NAME", "resolwe-flow-abcde-x7k2p")
    monkeypatch.setenv("RESOLWE_PREFECT_WORKSPACE_CLAIM", "resolwe-flow-abcde-x7k2p-workspace")
    monkeypatch.setenv("RESOLWE_PREFECT_NODE_NAME", "node-7")


def _required_terms(manifest: dict) -> list[dict]:
    affinity = pod_spec(manifest)["affinity"]["nodeAffinity"]
    return affinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]


def test_a_program_mounts_its_flow_runs_workspace_on_its_node(volume, in_a_workspace):
    inputs = volume / "data" / "7"
    inputs.mkdir(parents=True)
    manifest = KubernetesBackend().job_manifest(make_job(volume, input_dirs=[inputs]))
    validate(manifest)
    assert volumes(manifest)["data"] == {
        "name": "data",
        "persistentVolumeClaim": {"claimName": "resolwe-flow-abcde-x7k2p-workspace"},
    }
    assert mounts(manifest)["/inputs/7"]["subPath"] == "data/7"
    pinned = {"key": "metadata.name", "operator": "In", "values": ["node-7"]}
    assert _required_terms(manifest) == [{"matchFields": [pinned]}]
    # The placement's preference stays a preference.
    assert pod_spec(manifest)["affinity"]["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]


def test_the_node_is_required_on_top_of_every_required_term_of_the_placement(volume, in_a_workspace, settings):
    gpu = {"key": "resolwe.io/gpu", "operator": "Exists"}
    big = {"key": "resolwe.io/size", "operator": "In", "values": ["big"]}
    required = {"nodeSelectorTerms": [{"matchExpressions": [gpu]}, {"matchExpressions": [big]}]}
    settings.FLOW_EXECUTOR = {
        **settings.FLOW_EXECUTOR,
        "KUBERNETES_PLACEMENT": {
            "BA": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}}}
        },
    }
    manifest = KubernetesBackend().job_manifest(make_job(volume))
    validate(manifest)
    pinned = {"key": "metadata.name", "operator": "In", "values": ["node-7"]}
    assert _required_terms(manifest) == [
        {"matchExpressions": [gpu], "matchFields": [pinned]},
        {"matchExpressions": [big], "matchFields": [pinned]},
    ]
    assert required["nodeSelectorTerms"][0] == {"matchExpressions": [gpu]}, "the setting itself is not changed"


def test_a_workspace_without_its_node_is_the_runs_error(volume, monkeypatch):
    monkeypatch.setenv("RESOLWE_PREFECT_WORKSPACE_CLAIM", "pod-workspace")
    monkeypatch.delenv("RESOLWE_PREFECT_NODE_NAME", raising=False)
    with pytest.raises(ValueError, match="RESOLWE_PREFECT_NODE_NAME"):
        KubernetesBackend().job_manifest(make_job(volume))
    from resolwe_prefect.execution.backends.base import ProgramResult

    result = asyncio.run(KubernetesBackend(api_factory=object).run(make_job(volume, 43), lambda line: None))
    assert isinstance(result, ProgramResult) and result.return_code == 1
    assert "RESOLWE_PREFECT_NODE_NAME" in (result.message or "")


def test_on_a_shared_claim_programs_go_anywhere(volume, monkeypatch):
    monkeypatch.delenv("RESOLWE_PREFECT_WORKSPACE_CLAIM", raising=False)
    manifest = KubernetesBackend().job_manifest(make_job(volume))
    assert volumes(manifest)["data"]["persistentVolumeClaim"] == {"claimName": "resolwe-data"}
    assert "requiredDuringSchedulingIgnoredDuringExecution" not in pod_spec(manifest)["affinity"]["nodeAffinity"]


def test_tools_off_the_volume_are_staged_on_it_once_per_content(volume, settings, tmp_path_factory):
    tools = tmp_path_factory.mktemp("site-tools")
    (tools / "bin").mkdir()
    (tools / "bin" / "count.sh").write_text('#!/bin/sh\nwc -w "$1"\n')
    os.chmod(tools / "bin" / "count.sh", 0o750)
    (tools / "notes.txt").write_text("not a program\n")
    settings.RESOLWE_CUSTOM_TOOLS_PATHS = [str(tools)]
    settings.FLOW_TOOLS_ROOT = None

    (planned,) = tools_sub_paths(stage=False)
    assert re.fullmatch(r"tools/[0-9a-f]{16}", planned)
    assert not (volume / planned).exists(), "a manifest alone stages nothing"
    (staged,) = tools_sub_paths(stage=True)
    assert staged == planned
    assert oct((volume / staged / "bin" / "count.sh").stat().st_mode & 0o777) == oct(0o755)
    assert oct((volume / staged / "notes.txt").stat().st_mode & 0o777) == oct(0o644)
    manifest = KubernetesBackend().job_manifest(make_job(volume))
    validate(manifest)
    assert mounts(manifest)["/opt/resolwe/tools/0"] == {
        "name": "data",
        "mountPath": "/opt/resolwe/tools/0",
        "subPath": staged,
        "readOnly": True,
    }
    os.chmod(tools / "bin" / "count.sh", 0o640)
    assert stage_tree("tools", tools) != staged, "a changed mode is a new copy"

    # Tools already on the volume (FLOW_TOOLS_ROOT filled by collecttools) are mounted where they are.
    collected = volume / "tools-root"
    (collected / "00-site").mkdir(parents=True)
    settings.FLOW_TOOLS_ROOT = str(collected)
    assert tools_sub_paths(stage=True) == ["tools-root/00-site"]
