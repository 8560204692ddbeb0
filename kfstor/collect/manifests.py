"""Reading the manifests a user is about to apply: rendered kustomize output, or a kustomization.

`kfstor audit --manifests PATH` takes what `kustomize build` / `kubectl kustomize` prints (one
multi-document YAML stream of hundreds of objects: CRDs, RBAC, webhooks, ConfigMaps, Secrets),
plain YAML/JSON files and `kind: List` documents, a directory of them, `-` for stdin, or a
kustomization directory, which is rendered with `kubectl kustomize` (or `kustomize build`) when
one of them is on PATH.

Only what planning reads is kept: claims, workloads, StorageClasses, quotas, namespaces, Kubeflow
Profiles and Notebooks, and of ConfigMaps only the keys that describe claims components create
later (the Jupyter web app's spawner configuration, Katib's configuration). Secrets are dropped
as they are read and every other ConfigMap key too (they may hold credentials). Files go through
the same hostile-input guards as snapshots (alias bombs, deep nesting, bad encodings): bad input is
one InputError line, never a traceback.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kfstor.collect.snapshot import (
    SNAPSHOT_SUFFIXES,
    InputError,
    _documents,
    _flatten,
    _read_text,
    _slim_pod_spec,
)

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# The ConfigMap keys that say which claims a component creates later.
SPAWNER_KEY = "spawner_ui_config.yaml"  # Jupyter web app: notebook workspace and data volumes
KATIB_KEY = "katib-config.yaml"  # Katib 0.15+: suggestion volumes
KATIB_LEGACY_KEY = "suggestion"  # Katib up to 0.14: the same, as JSON per algorithm
CONFIG_KEYS = (SPAWNER_KEY, KATIB_KEY, KATIB_LEGACY_KEY)
# Kinds planning reads; everything else (CRDs, RBAC, webhooks, Services, ...) is counted and dropped.
PLANNED_KINDS = frozenset(
    {
        "PersistentVolumeClaim",
        "StatefulSet",
        "Deployment",
        "DaemonSet",
        "ReplicaSet",
        "Job",
        "CronJob",
        "Pod",
        "ConfigMap",
        "StorageClass",
        "ResourceQuota",
        "Namespace",
        "Profile",
        "Notebook",
    }
)
RENDER_TIMEOUT_S = 300.0
# A YAML stream splits into documents at lines that start with "---" (the YAML spec forbids that
# line inside any scalar), and a block-style document says its kind in a top-level "kind:" line.
DOCUMENT_START = re.compile(r"^---(?=[ \t]|$)", re.MULTILINE)
TOP_LEVEL_KIND = re.compile(r"^kind:[ \t]*[\"']?([A-Za-z0-9]+)[\"']?[ \t]*(?:#.*)?$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class ManifestObject:
    """One object of the manifests and the input it came from ("render.yaml", "stdin", "example/")."""

    obj: dict[str, Any]
    origin: str

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind") or "")

    @property
    def name(self) -> str:
        return str((self.obj.get("metadata") or {}).get("name") or "")

    @property
    def namespace(self) -> str:
        return str((self.obj.get("metadata") or {}).get("namespace") or "")

    @property
    def ref(self) -> str:
        """As reports print objects: Kind/namespace/name, or Kind/name when cluster-scoped."""
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class Manifests:
    """The kept objects by kind (in input order, the last of duplicates winning as kubectl apply
    would leave it), the inputs read, and how many objects and Secrets there were."""

    objects: Mapping[str, tuple[ManifestObject, ...]]
    inputs: tuple[str, ...]
    total: int
    secrets: int

    def of(self, kind: str) -> tuple[ManifestObject, ...]:
        return self.objects.get(kind, ())

    def count(self) -> int:
        return sum(len(v) for v in self.objects.values())

    @property
    def description(self) -> str:
        return ", ".join(self.inputs)


def _kustomization(path: Path) -> bool:
    return any((path / name).is_file() for name in KUSTOMIZATION_FILES)


def render_command(directory: str) -> list[str]:
    """`kubectl kustomize DIR`, else `kustomize build DIR`; InputError when neither is on PATH."""
    kubectl = shutil.which("kubectl")
    if kubectl:
        return [kubectl, "kustomize", directory]
    kustomize = shutil.which("kustomize")
    if kustomize:
        return [kustomize, "build", directory]
    raise InputError(
        f"{directory}: is a kustomization directory and neither kubectl nor kustomize is on PATH to render it; "
        f"install one, or pass the output of `kustomize build {directory}` instead"
    )


def render_kustomization(directory: str) -> str:
    """The rendered output of a kustomization directory, as text."""
    command = render_command(directory)
    tool = " ".join([Path(command[0]).name, *command[1:-1]])
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            timeout=RENDER_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "KUBECTL_EXTERNAL_DIFF": ""},
        )
    except subprocess.TimeoutExpired:
        raise InputError(f"{directory}: {tool} did not finish within {RENDER_TIMEOUT_S:.0f} seconds") from None
    except OSError as exc:
        raise InputError(f"{directory}: cannot run {tool}: {exc.strerror or exc}") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
        why = " ".join((lines[0] if lines else f"exit code {done.returncode}").split())[:300]
        raise InputError(f"{directory}: {tool} failed: {why}")
    try:
        return done.stdout.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{directory}: {tool} printed text that is not UTF-8 (offset {exc.start})") from None


def _inputs(paths: Sequence[str]) -> Iterator[tuple[str, str]]:
    """(label, text) per input: files as given, '-' as stdin, kustomizations rendered, other
    directories as their YAML/JSON files (sorted)."""
    for raw in paths:
        if raw == "-":
            yield "stdin", _read_text("-")
            continue
        path = Path(raw)
        if path.is_dir():
            if _kustomization(path):
                yield f"{raw} (rendered)", render_kustomization(raw)
                continue
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SNAPSHOT_SUFFIXES)
            if not files:
                raise InputError(f"{raw}: directory has no kustomization and no .yaml, .yml or .json files")
            for file in files:
                yield str(file), _read_text(str(file))
        elif path.exists():
            yield raw, _read_text(raw)
        else:
            raise InputError(f"{raw}: no such file or directory")


def _keep(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The object as planning keeps it, or None when planning does not read it."""
    kind = obj.get("kind")
    if kind not in PLANNED_KINDS:
        return None
    if kind == "ConfigMap":
        data = obj.get("data")
        if type(data) is not dict:
            return None
        kept = {key: value for key, value in data.items() if key in CONFIG_KEYS and type(value) is str}
        if not kept:
            return None
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(obj), "data": kept}
    if kind == "CronJob":  # the pod template sits one level deeper than snapshot.slim looks
        template = ((obj.get("spec") or {}).get("jobTemplate") or {}).get("spec") or {}
        if type(template) is dict and type(template.get("template")) is dict:
            _slim_pod_spec(template["template"].get("spec"))
    return obj


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    return {key: meta[key] for key in ("name", "namespace", "labels") if key in meta}


def _skippable(chunk: str) -> str | None:
    """The kind of a block-style YAML document planning never reads (a CRD, a Role, a Secret...),
    or None when the document must be parsed: a kind planning reads, a List, no top-level kind
    line, or several that disagree. Skipping CRDs, most of a render's bytes, keeps reading fast."""
    kinds: set[str] = set(TOP_LEVEL_KIND.findall(chunk))
    if len(kinds) != 1:
        return None
    kind = kinds.pop()
    if kind in PLANNED_KINDS or kind.endswith("List"):
        return None
    return kind


def _chunks(text: str) -> list[tuple[int, str]]:
    """(first line number - 1, text) of each document of a YAML stream; JSON stays whole."""
    if text.lstrip().startswith(("{", "[")):
        return [(0, text)]
    chunks = []
    start = line = 0
    for match in DOCUMENT_START.finditer(text):
        chunks.append((line, text[start : match.start()]))
        line += text.count("\n", start, match.start())
        start = match.start()
    chunks.append((line, text[start:]))
    return chunks


def _parsed(text: str, label: str) -> Iterator[tuple[Any, str | None]]:
    """(document, None) for each parsed document and (None, kind) for each one skipped unparsed.
    Parsed chunks keep their line numbers in errors (padded with the newlines before them)."""
    for offset, chunk in _chunks(text):
        kind = _skippable(chunk)
        if kind is not None:
            yield None, kind
            continue
        if not chunk.strip() or chunk.strip() == "---":
            continue
        for doc in _documents("\n" * offset + chunk, label):
            yield doc, None


def read_manifests(paths: Sequence[str]) -> Manifests:
    """Read every input; InputError (one line) for anything unreadable or malformed."""
    kept: dict[str, dict[tuple[str, str], ManifestObject]] = {}
    inputs: list[str] = []
    total = secrets = 0
    for label, text in _inputs(paths):
        inputs.append(label)
        for index, (doc, skipped) in enumerate(_parsed(text, label)):
            if skipped is not None:
                total += 1
                secrets += skipped == "Secret"
                continue
            try:
                objects = list(_flatten(doc, label, f"document {index + 1}"))
            except RecursionError:
                raise InputError(f"{label}: document {index + 1} nests lists too deeply") from None
            for obj in objects:
                total += 1
                if obj.get("kind") == "Secret":
                    secrets += 1
                    continue
                planned = _keep(obj)
                if planned is None:
                    continue
                entry = ManifestObject(planned, label)
                kept.setdefault(entry.kind, {})[(entry.namespace, entry.name)] = entry
    return Manifests(
        objects={kind: tuple(by_key.values()) for kind, by_key in kept.items()},
        inputs=tuple(inputs),
        total=total,
        secrets=secrets,
    )
