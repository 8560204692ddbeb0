"""A synthetic multi-tenant Kubeflow cluster of any size, deterministic for a given N.

N claims and N PersistentVolumes spread over profile namespaces and a few StorageClasses, N/10
notebooks (Notebook + StatefulSet + Pod mounting its workspace claim), N/10 events, nodes in
three zones, and Kubeflow's platform layout on Portworx. Objects look like what the API returns
(uids, timestamps, labels, annotations, status), so parsing and auditing cost what they would.
"""

from __future__ import annotations

import uuid
from typing import Any

CLASSES = (
    # name, provisioner, parameters, default
    ("px-db", "pxd.portworx.com", {"repl": "3", "io_profile": "db_remote", "priority_io": "high"}, True),
    ("px-shared", "pxd.portworx.com", {"repl": "2", "sharedv4": "true"}, False),
    ("px-scratch", "pxd.portworx.com", {"repl": "1"}, False),
)
ZONES = ("zone-a", "zone-b", "zone-c")
TIME = "2026-10-01T08:00:00Z"


def _uid(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(map(str, parts))))


def _meta(name: str, namespace: str | None = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "uid": _uid(namespace, name),
        "creationTimestamp": TIME,
        "resourceVersion": "1",
    }
    if namespace:
        meta["namespace"] = namespace
    meta.update(extra)
    return meta


def storage_classes() -> list[dict[str, Any]]:
    out = []
    for name, provisioner, params, default in CLASSES:
        annotations = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
        out.append(
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": _meta(name, annotations=annotations),
                "provisioner": provisioner,
                "parameters": dict(params),
                "reclaimPolicy": "Retain",
                "allowVolumeExpansion": True,
                "volumeBindingMode": "Immediate",
            }
        )
    return out


def csidrivers() -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "CSIDriver",
            "metadata": _meta("pxd.portworx.com"),
            "spec": {
                "attachRequired": False,
                "podInfoOnMount": False,
                "volumeLifecycleModes": ["Persistent", "Ephemeral"],
                "fsGroupPolicy": "File",
            },
        }
    ]


def snapshot_classes() -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "snapshot.storage.k8s.io/v1",
            "kind": "VolumeSnapshotClass",
            "metadata": _meta(
                "px-csi-snapclass", annotations={"snapshot.storage.kubernetes.io/is-default-class": "true"}
            ),
            "driver": "pxd.portworx.com",
            "deletionPolicy": "Delete",
        }
    ]


def nodes(count: int) -> list[dict[str, Any]]:
    out = []
    for i in range(count):
        name = f"worker-{i:03d}"
        zone = ZONES[i % len(ZONES)]
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": _meta(
                    name,
                    labels={
                        "kubernetes.io/hostname": name,
                        "topology.kubernetes.io/zone": zone,
                        "topology.kubernetes.io/region": "eu-west-1",
                        "node.kubernetes.io/instance-type": "m6i.4xlarge",
                    },
                ),
                "spec": {"podCIDR": f"10.244.{i % 250}.0/24"},
                "status": {
                    "conditions": [
                        {
                            "type": "Ready",
                            "status": "True",
                            "reason": "KubeletReady",
                            "lastTransitionTime": TIME,
                            "lastHeartbeatTime": TIME,
                        }
                    ],
                    "capacity": {"cpu": "16", "memory": "64Gi", "pods": "110"},
                    "allocatable": {"cpu": "15800m", "memory": "62Gi", "pods": "110"},
                    "nodeInfo": {
                        "kubeletVersion": "v1.34.12",
                        "osImage": "Ubuntu 24.04 LTS",
                        "containerRuntimeVersion": "containerd://2.1.4",
                    },
                },
            }
        )
    return out


def claim_pair(
    name: str, namespace: str, class_name: str, size: str, modes: list[str], labels: dict[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A Bound claim and its Bound volume, referencing each other as the PV controller leaves them."""
    pv_name = "pvc-" + _uid(namespace, name)
    pvc = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": _meta(
            name,
            namespace,
            labels=labels or {},
            annotations={
                "pv.kubernetes.io/bind-completed": "yes",
                "pv.kubernetes.io/bound-by-controller": "yes",
                "volume.beta.kubernetes.io/storage-provisioner": "pxd.portworx.com",
                "volume.kubernetes.io/storage-provisioner": "pxd.portworx.com",
            },
            finalizers=["kubernetes.io/pvc-protection"],
        ),
        "spec": {
            "accessModes": modes,
            "resources": {"requests": {"storage": size}},
            "storageClassName": class_name,
            "volumeMode": "Filesystem",
            "volumeName": pv_name,
        },
        "status": {"phase": "Bound", "accessModes": modes, "capacity": {"storage": size}},
    }
    pv = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": _meta(
            pv_name,
            annotations={"pv.kubernetes.io/provisioned-by": "pxd.portworx.com"},
            finalizers=["kubernetes.io/pv-protection"],
        ),
        "spec": {
            "accessModes": modes,
            "capacity": {"storage": size},
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "name": name,
                "namespace": namespace,
                "uid": pvc["metadata"]["uid"],
                "resourceVersion": "1",
            },
            "csi": {
                "driver": "pxd.portworx.com",
                "fsType": "ext4",
                "volumeHandle": _uid("volume", pv_name),
                "volumeAttributes": {
                    "repl": "3",
                    "storage.kubernetes.io/csiProvisionerIdentity": "1727000000000-8081-pxd.portworx.com",
                },
            },
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": class_name,
            "volumeMode": "Filesystem",
        },
        "status": {"phase": "Bound", "lastPhaseTransitionTime": TIME},
    }
    return pvc, pv


def deployment(name: str, namespace: str, claim: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, namespace, labels=labels),
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": name,
                            "image": "mysql:8.4",
                            "volumeMounts": [{"name": "data", "mountPath": "/var/lib/mysql"}],
                        }
                    ],
                    "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}],
                },
            },
        },
        "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1, "observedGeneration": 1},
    }


def pod(name: str, namespace: str, node: str, claims: list[str], labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(name, namespace, labels=labels),
        "spec": {
            "nodeName": node,
            "containers": [
                {
                    "name": "main",
                    "image": "kubeflownotebookswg/jupyter-scipy:v1.10.0",
                    "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}},
                    "volumeMounts": [{"name": c, "mountPath": f"/home/jovyan/{c}"} for c in claims],
                }
            ],
            "securityContext": {"fsGroup": 100},
            "volumes": [{"name": c, "persistentVolumeClaim": {"claimName": c}} for c in claims],
        },
        "status": {
            "phase": "Running",
            "hostIP": "10.0.0.1",
            "podIP": "10.244.0.10",
            "startTime": TIME,
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": TIME}],
        },
    }


def kubeflow_platform(node: str) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": _meta("kubeflow")}]
    for claim, size, workload in (
        ("mysql-pv-claim", "20Gi", "mysql"),
        ("minio-pvc", "20Gi", "minio"),
        ("katib-mysql", "10Gi", "katib-mysql"),
    ):
        pvc, pv = claim_pair(
            claim, "kubeflow", "px-db", size, ["ReadWriteOnce"], {"application-crd-id": "kubeflow-pipelines"}
        )
        labels = {"app": workload}
        objects += [
            pvc,
            pv,
            deployment(workload, "kubeflow", claim, labels),
            pod(f"{workload}-5d8f7c9b4-x2x9q", "kubeflow", node, [claim], labels),
        ]
    return objects


def cluster(n: int) -> list[dict[str, Any]]:
    """The whole synthetic cluster for N claims (N >= 10)."""
    namespaces = max(10, n // 50)  # hundreds of profile namespaces at 10k+ claims
    node_list = nodes(max(6, min(200, n // 100)))
    node_names = [nd["metadata"]["name"] for nd in node_list]
    objects: list[dict[str, Any]] = [
        *storage_classes(),
        *csidrivers(),
        *snapshot_classes(),
        *node_list,
        *kubeflow_platform(node_names[0]),
    ]
    for i in range(namespaces):
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": _meta(f"team-{i:04d}", labels={"app.kubernetes.io/part-of": "kubeflow-profile"}),
            }
        )
    notebooks = n // 10
    for i in range(n):
        ns = f"team-{i % namespaces:04d}"
        if i < notebooks:
            name, class_name, modes = f"nb-{i:05d}-workspace", "px-db", ["ReadWriteOnce"]
        elif i % 10 == 0:
            name, class_name, modes = f"datasets-{i:05d}", "px-shared", ["ReadWriteMany"]
        else:
            name, class_name, modes = f"data-{i:05d}", "px-scratch" if i % 3 else "px-db", ["ReadWriteOnce"]
        pvc, pv = claim_pair(name, ns, class_name, f"{5 + i % 20}Gi", modes)
        objects += [pvc, pv]
        if i < notebooks:
            nb = f"nb-{i:05d}"
            labels = {"app": nb, "notebook-name": nb, "statefulset": nb}
            objects.append(
                {
                    "apiVersion": "kubeflow.org/v1",
                    "kind": "Notebook",
                    "metadata": _meta(nb, ns, labels={"app": nb}),
                    "spec": {
                        "template": {
                            "spec": {
                                "containers": [{"name": nb, "image": "kubeflownotebookswg/jupyter-scipy:v1.10.0"}],
                                "volumes": [{"name": name, "persistentVolumeClaim": {"claimName": name}}],
                            }
                        }
                    },
                }
            )
            objects.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "StatefulSet",
                    "metadata": _meta(nb, ns, labels={"app": nb}),
                    "spec": {
                        "replicas": 1,
                        "serviceName": "",
                        "selector": {"matchLabels": {"statefulset": nb}},
                        "template": {
                            "metadata": {"labels": labels},
                            "spec": {
                                "containers": [{"name": nb, "image": "kubeflownotebookswg/jupyter-scipy:v1.10.0"}],
                                "volumes": [{"name": name, "persistentVolumeClaim": {"claimName": name}}],
                            },
                        },
                    },
                    "status": {"replicas": 1, "readyReplicas": 1, "currentReplicas": 1, "availableReplicas": 1},
                }
            )
            objects.append(pod(f"{nb}-0", ns, node_names[i % len(node_names)], [name], labels))
            objects.append(
                {
                    "apiVersion": "v1",
                    "kind": "Event",
                    "metadata": _meta(f"{name}.18a2b3c4d5e6f{i:05d}", ns),
                    "involvedObject": {
                        "apiVersion": "v1",
                        "kind": "PersistentVolumeClaim",
                        "name": name,
                        "namespace": ns,
                        "uid": pvc["metadata"]["uid"],
                    },
                    "reason": "ProvisioningSucceeded",
                    "type": "Normal",
                    "count": 1,
                    "message": f"Successfully provisioned volume {pv['metadata']['name']}",
                    "source": {"component": "pxd.portworx.com_px-csi-ext-7f9c_0"},
                    "firstTimestamp": TIME,
                    "lastTimestamp": TIME,
                    "reportingComponent": "",
                    "reportingInstance": "",
                }
            )
    return objects
