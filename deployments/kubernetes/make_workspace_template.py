"""Write ``base-job-template-workspace.json`` from ``base-job-template.json``.

The workspace template is for clusters without ReadWriteMany storage: each flow-run pod gets a
ReadWriteOnce workspace of its own (a generic ephemeral volume, deleted with the pod) instead
of the shared claim, stages its inputs from object storage and publishes its results there
(``STORAGE_LOCAL_SCRATCH``); its program pods mount the same claim on the same node. Everything
else is the base template's, so the two never drift: run this after editing the base template
(``tests/execution/test_kubernetes.py`` checks that the committed file is what it writes).

    python deployments/kubernetes/make_workspace_template.py
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = HERE / "base-job-template.json"
WORKSPACE = HERE / "base-job-template-workspace.json"

VARIABLES = {
    "workspace_size": {
        "title": "Workspace Size",
        "description": "The size of each flow run's workspace: its Data directory, its staged inputs and the "
        "Python runtime (Kubernetes resource quantity).",
        "type": "string",
        "default": "100Gi",
    },
    "workspace_storage_class": {
        "title": "Workspace Storage Class",
        "description": "The storage class of the workspaces (ReadWriteOnce is enough). If not provided, the "
        "cluster's default storage class is used.",
        "type": "string",
    },
}


def workspace_template(base: dict) -> dict:
    """The base template with a per-pod ReadWriteOnce workspace in place of the shared claim."""
    template = copy.deepcopy(base)
    pod = template["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = container["env"]
    after_pod_name = next(i for i, e in enumerate(env) if e["name"] == "RESOLWE_PREFECT_POD_NAME") + 1
    env[after_pod_name:after_pod_name] = [
        # The generic ephemeral volume's claim is named <pod name>-<volume name>.
        {"name": "RESOLWE_PREFECT_WORKSPACE_CLAIM", "value": "$(RESOLWE_PREFECT_POD_NAME)-workspace"},
        {"name": "RESOLWE_PREFECT_NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        {"name": "RESOLWE_PREFECT_STORAGE_LOCAL_SCRATCH", "value": "1"},
    ]
    home = next(e["value"] for e in env if e["name"] == "RESOLWE_PREFECT_HOME")
    container["volumeMounts"] = [{"name": "workspace", "mountPath": home}]
    pod["volumes"] = [
        {
            "name": "workspace",
            "ephemeral": {
                "volumeClaimTemplate": {
                    "metadata": {
                        "labels": {
                            "app.kubernetes.io/name": "resolwe-prefect",
                            "app.kubernetes.io/component": "workspace",
                        }
                    },
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": "{{ workspace_storage_class }}",
                        "resources": {"requests": {"storage": "{{ workspace_size }}"}},
                    },
                }
            },
        }
    ]
    variables = template["variables"]
    variables["description"] = (
        "Variables of the resolwe-kubernetes work pool without ReadWriteMany storage: each flow run (one "
        "Resolwe Data object) runs in its own pod with a workspace of its own, fetches its inputs from object "
        "storage, starts the program as a Job on its node (KubernetesBackend) and publishes the results."
    )
    variables["properties"].update(copy.deepcopy(VARIABLES))
    return template


def render() -> str:
    return json.dumps(workspace_template(json.loads(BASE.read_text())), indent=2) + "\n"


if __name__ == "__main__":
    WORKSPACE.write_text(render())
    print(f"wrote {WORKSPACE}")
