"""Reading snapshots: everything kubectl prints, and clear one-line errors for everything else."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from kfstor.collect.snapshot import InputError, Source, build, from_files, to_document, write

SC = """apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: px-db}
provisioner: pxd.portworx.com
"""
PVC = """apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: mysql-pv-claim, namespace: kubeflow}
spec: {accessModes: [ReadWriteOnce]}
"""


def write_file(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return str(path)


def test_multi_document_yaml(tmp_path: Path) -> None:
    snap = from_files([write_file(tmp_path, "a.yaml", SC + "---\n" + PVC + "---\n")])
    assert [o["metadata"]["name"] for o in snap.of("StorageClass")] == ["px-db"]
    assert snap.get("PersistentVolumeClaim", "mysql-pv-claim", "kubeflow") is not None
    assert snap.collected is None and snap.source.kind == "file"


def test_kubectl_list_and_typed_list_json(tmp_path: Path) -> None:
    # `kubectl get -o json` of one kind prints a List whose items carry their kind; the raw API
    # prints a typed list (PersistentVolumeClaimList) whose items do not.
    raw = {
        "kind": "PersistentVolumeClaimList",
        "apiVersion": "v1",
        "items": [{"metadata": {"name": "a", "namespace": "x"}}, {"metadata": {"name": "b", "namespace": "x"}}],
    }
    snap = from_files([write_file(tmp_path, "pvcs.json", json.dumps(raw))])
    assert [o["metadata"]["name"] for o in snap.of("PersistentVolumeClaim")] == ["a", "b"]


def test_directory_and_order_independence(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    write_file(tmp_path / "d", "2.yml", PVC)
    write_file(tmp_path / "d", "1.yaml", SC)
    write_file(tmp_path / "d", "notes.txt", "ignored")
    snap = from_files([str(tmp_path / "d")])
    assert set(snap.objects) == {"StorageClass", "PersistentVolumeClaim"}


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(SC.encode())))
    snap = from_files(["-"])
    assert snap.source.description == "stdin"
    assert len(snap.of("StorageClass")) == 1


def test_secrets_are_never_carried(tmp_path: Path) -> None:
    secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: kubeflow}\ndata: {password: aHVudGVyMg==}\n"
    snap = from_files([write_file(tmp_path, "s.yaml", SC + "---\n" + secret)])
    assert "Secret" not in snap.objects
    buffer = io.StringIO()
    write(snap, buffer)
    assert "aHVudGVyMg" not in buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("kind: StorageClass\nmetadata: {name: a\n", "invalid YAML at line 3 column 1"),
        ('{"kind": "List", "items": [', "invalid JSON at line 1 column 28"),
        ("- just\n- strings\n", "document 1[0] is a str, expected a Kubernetes object"),
        ("kind: StorageClass\n", "document 1 (StorageClass) has no 'metadata' mapping"),
        ("kind: StorageClass\nmetadata: {namespace: x}\n", "document 1 (StorageClass) has no metadata.name"),
        ("metadata: {name: a}\n", "document 1 has no 'kind'"),
        ("kind: List\nitems: 7\n", "document 1 has 'items' that is not a list"),
        (b"kind: StorageClass\nmetadata: {name: \xff\xfe}\n", "not UTF-8 text (invalid byte at offset 36)"),
        ("[" * 100000, "nested too deeply"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, content: str | bytes, message: str) -> None:
    path = write_file(tmp_path, "bad.yaml", content)
    with pytest.raises(InputError) as info:
        from_files([path])
    text = str(info.value)
    assert text.startswith(f"{path}: ")
    assert message in text
    assert "\n" not in text


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"absent\.yaml: no such file or directory$"):
        from_files([str(tmp_path / "absent.yaml")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"directory has no \.yaml, \.yml or \.json files"):
        from_files([str(tmp_path / "empty")])


def test_snapshot_round_trip_keeps_kinds_and_unavailable(tmp_path: Path) -> None:
    objects = [
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "b", "namespace": "z"}},
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "a", "namespace": "z"}},
        {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "x"}},
    ]
    source = Source("cluster", "https://10.0.0.1:6443", "prod", "v1.34.2", "2026-11-01T00:00:00Z")
    original = build(
        objects,
        source,
        collected=frozenset({"PersistentVolumeClaim", "StorageClass", "CSIDriver"}),
        unavailable={"PersistentVolume": "forbidden: list persistentvolumes"},
    )
    for fmt in ("yaml", "json"):
        path = tmp_path / f"snap.{fmt}"
        with path.open("w") as handle:
            write(original, handle, fmt, server="https://10.0.0.1:6443")
        again = from_files([str(path)])
        assert again.objects == original.objects
        assert again.collected == original.collected
        assert dict(again.unavailable) == {"PersistentVolume": "forbidden: list persistentvolumes"}
        assert (again.source.context, again.source.server_version, again.source.collected_at) == (
            "prod",
            "v1.34.2",
            "2026-11-01T00:00:00Z",
        )
        # A kind read but empty counts as read; plain kubectl input cannot tell.
        assert again.has_collected("CSIDriver") and not again.has_collected("PersistentVolume")
    assert [o["metadata"]["name"] for o in original.of("PersistentVolumeClaim")] == ["a", "b"]
    assert to_document(original)["kind"] == "List"


def test_duplicates_keep_the_last(tmp_path: Path) -> None:
    first = SC
    second = SC.replace("pxd.portworx.com", "kubernetes.io/portworx-volume")
    snap = from_files([write_file(tmp_path, "a.yaml", first), write_file(tmp_path, "b.yaml", second)])
    assert [o["provisioner"] for o in snap.of("StorageClass")] == ["kubernetes.io/portworx-volume"]


def test_objects_are_slimmed_on_the_way_in(tmp_path: Path) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "mysql-0",
            "namespace": "kubeflow",
            "managedFields": [{"manager": "kubectl"}],
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"env": "hunter2"}', "team": "ml"},
        },
        "spec": {
            "nodeName": "worker-1",
            "containers": [
                {
                    "name": "mysql",
                    "image": "mysql:8.4",
                    "command": ["mysqld"],
                    "env": [{"name": "MYSQL_ROOT_PASSWORD", "value": "hunter2"}],
                    "volumeMounts": [{"name": "data", "mountPath": "/var/lib/mysql"}],
                }
            ],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "mysql-pv-claim"}}],
        },
    }
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "worker-1"},
        "status": {"images": [{"names": ["mysql:8.4"], "sizeBytes": 1}], "capacity": {"cpu": "4"}},
    }
    snap = from_files([write_file(tmp_path, "in.json", json.dumps({"kind": "List", "items": [pod, node]}))])
    kept = snap.get("Pod", "mysql-0", "kubeflow")
    assert kept is not None
    assert kept["metadata"]["annotations"] == {"team": "ml"}
    assert "managedFields" not in kept["metadata"]
    assert kept["spec"]["containers"] == [
        {"name": "mysql", "image": "mysql:8.4", "volumeMounts": [{"name": "data", "mountPath": "/var/lib/mysql"}]}
    ]
    assert kept["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "mysql-pv-claim"
    assert snap.get("Node", "worker-1")["status"] == {"capacity": {"cpu": "4"}}  # type: ignore[index]
    written = io.StringIO()
    write(snap, written)
    assert "hunter2" not in written.getvalue()


def test_a_list_whose_metadata_is_not_a_mapping_is_read_not_crashed(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text(
        "apiVersion: v1\nkind: List\nmetadata: 1\nitems:\n"
        "- {apiVersion: storage.k8s.io/v1, kind: StorageClass, metadata: {name: std}, provisioner: x}\n",
        encoding="utf-8",
    )
    snap = from_files([str(path)])
    assert [o["metadata"]["name"] for o in snap.of("StorageClass")] == ["std"]


def test_share_strings_makes_repeated_values_one_object() -> None:
    """Live pages repeat namespaces, phases and class names; after sharing, equal strings are one
    object and the objects are otherwise unchanged."""
    import copy

    from kfstor.collect.snapshot import share_strings

    def page() -> list[dict[str, object]]:
        # built from pieces so the equal strings start out as distinct objects, as json.loads gives them
        return [
            {
                "metadata": {"name": f"claim-{i}", "namespace": "".join(["team", "-a"])},
                "spec": {"accessModes": ["".join(["ReadWrite", "Once"])], "storageClassName": "".join(["px", "-db"])},
                "status": {"phase": "".join(["Bo", "und"]), "capacity": {"storage": 10}},
            }
            for i in range(3)
        ]

    items = page()
    expected = copy.deepcopy(items)
    shared: dict[str, str] = {}
    for item in items:
        share_strings(item, shared)
    assert items == expected
    namespaces = [item["metadata"]["namespace"] for item in items]  # type: ignore[index]
    modes = [item["spec"]["accessModes"][0] for item in items]  # type: ignore[index]
    assert namespaces[0] is namespaces[1] is namespaces[2]
    assert modes[0] is modes[1] is modes[2]
    assert items[0]["metadata"]["name"] is not items[1]["metadata"]["name"]  # type: ignore[index]
    assert items[0]["status"]["capacity"]["storage"] == 10  # type: ignore[index]
