"""Malformed and hostile snapshots: every one ends as one clear error line or a correct report.

`kfstor audit --from FILE` reads files a user (or an attacker) hands it. Whatever the file holds,
the audit must end in exactly one of two ways:

- an input error: exit 2 and exactly one stderr line `kfstor: error: ...`, no traceback, nothing
  on stdout (in-process: `snapshot.from_files` raises InputError with a one-line message);
- a correct report: JSON that validates against kfstor/schema/report-v1.json, with no check in
  status `error` (a check crashing on bad input is a bug in that check) and a gate exit code of 0
  or 1 that matches the process's exit code.

Hypothesis drives most of it in-process (snapshot.from_files + runner.run + the JSON renderer, the
same path the CLI takes): truncated files, wrong types and dropped keys in realistic objects from
tests/cases, corrupted bytes, deep nesting and YAML alias bombs planted in random fields. A
deterministic sweep puts a wrongly typed value into every (kind, field path) the corpus has, and a
handful of hostile files go through the real CLI in a subprocess with bounded time and memory.

Runs are derandomized (no example database), so CI sees the same examples every time.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import io
import json
import math
import os
import re
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kfstor.collect.snapshot import InputError, from_files
from kfstor.engine import runner
from kfstor.engine.loader import load_checks
from kfstor.render import json_report

REPO = Path(__file__).resolve().parents[1]
CASES = REPO / "tests" / "cases"
CORPUS = sorted(CASES.rglob("*.yaml"))
SCHEMA = json.loads((REPO / "kfstor" / "schema" / "report-v1.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
CHECKS = load_checks([]).checks
ENTRY = "import sys; sys.argv[0] = 'kfstor'; from kfstor.cli import main; main()"

# Fixed dates keep reports (waivers, created) independent of the day the suite runs.
TODAY = dt.date(2025, 6, 1)
NOW = "2025-06-01T00:00:00Z"
# One example (parse + 13 checks + render) takes milliseconds; anything near this is a hang.
EXAMPLE_BUDGET_S = 20
HUGE = "x" * (3 * 1024 * 1024)  # multi-MB string, shared so examples stay cheap to build

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def _corpus_docs() -> dict[Path, dict[str, Any]]:
    docs = {}
    for path in CORPUS:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(doc, dict) and isinstance(doc.get("items"), list) and doc["items"], path
        docs[path] = doc
    return docs


DOCS = _corpus_docs()
DOCS_JSON = {path: json.dumps(doc) for path, doc in DOCS.items()}
SCENARIOS = [p for p in CORPUS if p.parent.name == "scenarios"]


def fresh(path: Path) -> dict[str, Any]:
    """A private copy of a corpus document (faster than deepcopy)."""
    doc: dict[str, Any] = json.loads(DOCS_JSON[path])
    return doc


# ---------------------------------------------------------------------------------------------
# Outcomes


class Hang(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt a runaway example (Python-level loops) instead of hanging the suite."""

    def alarm(signum: int, frame: object) -> None:
        raise Hang(f"example still running after {seconds}s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_report(data: dict[str, Any], validate: bool = True) -> dict[str, Any]:
    """A correct report: schema-valid, no crashed check, a gate of 0 or 1."""
    if validate:
        VALIDATOR.validate(data)
    crashed = [(c["id"], c["reason"]) for c in data["checks"] if c["status"] == "error"]
    assert not crashed, f"checks crashed on the input: {crashed}"
    assert data["gate"]["exit_code"] in (0, 1)
    assert len(data["checks"]) == len(CHECKS)
    return data


def check_message(message: str) -> str:
    """What the CLI prints after `kfstor: error: `: one non-empty line."""
    assert message.strip(), "empty error message"
    assert not any(c in message for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), repr(message[:300])
    return message


def audit_file(path: Path, validate: bool = True) -> tuple[str, Any]:
    """("error", message) or ("report", report dict), the way `kfstor audit --from` decides."""
    with time_limit(EXAMPLE_BUDGET_S):
        try:
            snap = from_files([str(path)])
        except InputError as exc:
            return "error", check_message(str(exc))
        report = runner.run(CHECKS, snap, today=TODAY, now=NOW)
        out = io.StringIO()
        json_report.render(report, out)
    return "report", check_report(json.loads(out.getvalue()), validate)


def write(path: Path, doc: Any, fmt: str) -> Path:
    if fmt == "json":
        path.write_text(json.dumps(doc), encoding="utf-8")
    else:
        # Shared Python objects become YAML anchors and aliases, as a hand-written file might use.
        path.write_text(
            yaml.dump(doc, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), allow_unicode=True, sort_keys=False),
            encoding="utf-8",
        )
    return path


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# ---------------------------------------------------------------------------------------------
# Strategies

# Strings that look like Kubernetes quantities, including absurd exponents and signs.
QUANTITYISH = st.from_regex(
    r"[+-]?[0-9]{0,4}\.?[0-9]{0,3}([eE][+-]?[0-9]{1,10})?(Ki|Mi|Gi|Ti|Ei|m|k|M|G|n|u)?", fullmatch=True
)
MEANINGFUL = st.sampled_from(
    [
        "",
        " ",
        "\n",
        "\x00",
        "true",
        "false",
        "True",
        "Bound",
        "Pending",
        "Lost",
        "Released",
        "Failed",
        "Running",
        "ReadWriteMany",
        "ReadWriteOnce",
        "ReadOnlyMany",
        "Block",
        "Filesystem",
        "WaitForFirstConsumer",
        "Immediate",
        "Retain",
        "Delete",
        "kubeflow",
        "default",
        "pxd.portworx.com",
        "kubernetes.io/no-provisioner",
        "1e999999999Gi",
        "-1Gi",
        "NaN",
        ".inf",
        "0",
        "9" * 5000,
        "<script>alert(1)</script>",
        "{{ 7*7 }}",
        "StorageClass",
        "PersistentVolumeClaim",
        "List",
        "a\nb\rc\u2028d",
        "³",
        "١٢",
    ]
)
SCALARS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**63, 10**30, -(10**30)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=30),
    QUANTITYISH,
    MEANINGFUL,
)
HOSTILE = st.one_of(
    SCALARS,
    st.just(HUGE),
    st.lists(SCALARS, max_size=4),
    st.dictionaries(st.text(max_size=8), SCALARS, max_size=4),
    st.lists(
        st.dictionaries(st.sampled_from(["name", "kind", "claimName", "storage", "key", "value"]), SCALARS, max_size=3),
        max_size=3,
    ),
    st.recursive(
        SCALARS,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
        max_leaves=12,
    ),
)


def pick_location(data: st.DataObject, doc: dict[str, Any]) -> tuple[Any, Any]:
    """A random (container, key) inside the document, usually inside one of its objects."""
    root: dict[str, Any] = {"doc": doc}
    parent: Any
    key: Any
    items = doc.get("items")
    # An earlier mutation may have replaced `items` with anything: then start from the root.
    if data.draw(st.integers(0, 9), label="from the root") == 0 or not isinstance(items, list) or not items:
        parent, key = root, "doc"
    else:
        parent, key = items, data.draw(st.integers(0, len(items) - 1), label="item")
    for _ in range(40):
        node = parent[key]
        children: list[Any] = (
            list(node) if isinstance(node, dict) else list(range(len(node))) if isinstance(node, list) else []
        )
        if not children or data.draw(st.integers(0, 3), label="stop here") == 0:
            break
        parent, key = node, data.draw(st.sampled_from(children), label="key")
    return parent, key


def mutate(
    data: st.DataObject, doc: dict[str, Any], value: st.SearchStrategy[Any] = HOSTILE, delete: bool = True
) -> None:
    parent, key = pick_location(data, doc)
    if delete and key != "doc" and data.draw(st.integers(0, 3), label="delete") == 0:
        del parent[key]
    else:
        parent[key] = data.draw(value, label="value")


# ---------------------------------------------------------------------------------------------
# Hypothesis: in-process


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_truncated_files(data: st.DataObject, workdir: Path) -> None:
    """A corpus file cut at any byte, as YAML or as JSON: a clear error or a correct report."""
    source = data.draw(st.sampled_from(CORPUS), label="file")
    fmt = data.draw(st.sampled_from(["yaml", "json"]), label="format")
    raw = source.read_bytes() if fmt == "yaml" else json.dumps(DOCS[source], indent=1).encode()
    cut = data.draw(st.integers(0, len(raw)), label="cut at")
    path = workdir / f"truncated.{fmt}"
    path.write_bytes(raw[:cut])
    kind, result = audit_file(path)
    if fmt == "json" and 0 < cut < len(raw.rstrip()):
        # A JSON document cut short is never valid JSON.
        assert kind == "error" and "invalid JSON" in result, result


@settings(FUZZ, max_examples=220)
@given(data=st.data())
def test_wrong_types_and_dropped_keys(data: st.DataObject, workdir: Path) -> None:
    """Realistic objects with random nested values replaced (ints, floats incl. NaN/inf, lists,
    dicts, None, bools, multi-MB and quantity-like strings) or random keys dropped (kind,
    metadata, name included), written as YAML or JSON."""
    source = data.draw(st.sampled_from(CORPUS), label="file")
    doc = fresh(source)
    for _ in range(data.draw(st.integers(1, 5), label="mutations")):
        mutate(data, doc)
    fmt = data.draw(st.sampled_from(["yaml", "json"]), label="format")
    audit_file(write(workdir / f"mutated.{fmt}", doc, fmt))


@settings(FUZZ, max_examples=40)
@given(data=st.data())
def test_corrupted_bytes(data: st.DataObject, workdir: Path) -> None:
    """Random bytes (often invalid UTF-8) spliced into a corpus file."""
    source = data.draw(st.sampled_from(CORPUS), label="file")
    raw = bytearray(source.read_bytes())
    for _ in range(data.draw(st.integers(1, 4), label="splices")):
        at = data.draw(st.integers(0, len(raw)), label="at")
        width = data.draw(st.integers(0, 3), label="overwrite")
        raw[at : at + width] = data.draw(st.binary(min_size=1, max_size=8), label="bytes")
    path = workdir / "corrupted.yaml"
    path.write_bytes(bytes(raw))
    kind, result = audit_file(path)
    try:
        bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        assert kind == "error" and "not UTF-8" in result, result


@settings(FUZZ, max_examples=25)
@given(data=st.data())
def test_deep_nesting_in_a_field(data: st.DataObject, workdir: Path) -> None:
    """A field holding lists or mappings nested up to thousands of levels deep, as YAML or JSON."""
    source = data.draw(st.sampled_from(SCENARIOS), label="file")
    doc = fresh(source)
    depth = data.draw(st.integers(1, 3000), label="depth")
    shape = data.draw(st.sampled_from(["list", "dict"]), label="shape")
    marker = "NESTED-HERE-0123456789"
    mutate(data, doc, st.just(marker), delete=False)
    fmt = data.draw(st.sampled_from(["yaml", "json"]), label="format")
    # The dumpers recurse too: write the nesting as flow text in place of a marker.
    opening, closing = ("[" * depth, "]" * depth) if shape == "list" else ('{"a": ' * depth, "}" * depth)
    text = json.dumps(doc).replace(json.dumps(marker), f'{opening}"leaf"{closing}', 1)
    # JSON is YAML: a leading comment makes kfstor take the YAML path.
    path = workdir / f"deep.{fmt}"
    path.write_text(text if fmt == "json" else "# yaml\n" + text, encoding="utf-8")
    audit_file(path)


def bomb(levels: int) -> list[Any]:
    """10**levels leaves built from `levels` shared lists: YAML dumps it as anchors and aliases."""
    node: list[Any] = ["lol"] * 10
    for _ in range(levels - 1):
        node = [node] * 10
    return node


@settings(FUZZ, max_examples=25)
@given(data=st.data())
def test_alias_bombs_in_a_field(data: st.DataObject, workdir: Path) -> None:
    """Anchors and aliases that expand to up to 10**9 nodes, planted in a random field or as a
    List's items: refused or audited quickly, never expanded into a hang or a huge report."""
    source = data.draw(st.sampled_from(SCENARIOS), label="file")
    doc = fresh(source)
    levels = data.draw(st.integers(1, 9), label="levels")
    if data.draw(st.booleans(), label="objects as items"):
        leaf = copy.deepcopy(doc["items"][0])
        node: list[Any] = [leaf] * 10
        for _ in range(levels - 1):
            node = [node] * 10
        doc["items"] = node
    else:
        mutate(data, doc, st.just(bomb(levels)), delete=False)
    path = write(workdir / "bomb.yaml", doc, "yaml")
    size = path.stat().st_size
    started = time.monotonic()
    kind, result = audit_file(path)
    assert time.monotonic() - started < 10
    if kind == "report":
        # Nothing may expand the aliases into the output.
        assert len(json.dumps(result)) < 20 * size + 200_000


# ---------------------------------------------------------------------------------------------
# Deterministic sweep: a wrong type in every field the corpus has


def field_paths() -> list[tuple[Path, str, tuple[str, ...]]]:
    """(file, kind, path) for every distinct field path per kind in the corpus, '[]' for list items;
    each taken from the first file that has it (scenarios first: they are the richest)."""
    seen: dict[tuple[str, tuple[str, ...]], Path] = {}

    def walk(node: Any, kind: str, prefix: tuple[str, ...], path: Path) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                here = (*prefix, str(key))
                seen.setdefault((kind, here), path)
                walk(value, kind, here, path)
        elif isinstance(node, list):
            for value in node:
                here = (*prefix, "[]")
                seen.setdefault((kind, here), path)
                walk(value, kind, here, path)

    for path in [*SCENARIOS, *(p for p in CORPUS if p not in SCENARIOS)]:
        for item in DOCS[path]["items"]:
            walk(item, str(item.get("kind")), (), path)
    return [(path, kind, field) for (kind, field), path in seen.items()]


def replace_at(node: Any, field: tuple[str, ...], make: Any) -> int:
    """Replace the value at `field` (every list element for '[]') with make(old); count replacements."""
    head, rest = field[0], field[1:]
    targets: list[tuple[Any, Any]] = []
    if head == "[]" and isinstance(node, list):
        targets = [(node, i) for i in range(len(node))]
    elif isinstance(node, dict) and head in node:
        targets = [(node, head)]
    count = 0
    for parent, key in targets:
        if rest:
            count += replace_at(parent[key], rest, make)
        else:
            parent[key] = make(parent[key])
            count += 1
    return count


NUMBER_LIKE = re.compile(r"^[+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?(?:[KMGTPE]i?|[mkun])?$")
# What a quantity or count may hold in a hostile file: non-finite floats, absurd exponents and sizes.
NUMERIC_HOSTILE = [math.nan, math.inf, -math.inf, "1e999999999Gi", "-1e999999999", "9" * 5000, "-1Gi", 2**80, 0.5, "³"]


def values_at(node: Any, field: tuple[str, ...]) -> list[Any]:
    if not field:
        return [node]
    head, rest = field[0], field[1:]
    if head == "[]" and isinstance(node, list):
        return [value for item in node for value in values_at(item, rest)]
    if isinstance(node, dict) and head in node:
        return values_at(node[head], rest)
    return []


def wrong_values(old: Any) -> list[Any]:
    """Values of a type the field never has (one scalar, one container); for a number or a
    number-like string (quantities, counts, replica levels) also hostile numbers."""
    if isinstance(old, dict):
        return ["not-a-mapping", [old]]
    if isinstance(old, list):
        return [7, {"0": old}]
    if isinstance(old, bool):
        return ["yes", [old]]
    if isinstance(old, int | float):
        return [str(old) + "x", [old], *NUMERIC_HOSTILE]
    if isinstance(old, str):
        return [12345, {"value": old}, *(NUMERIC_HOSTILE if NUMBER_LIKE.match(old) else [])]
    return [["x"], {"x": 1}]


def test_every_field_with_a_wrong_type(workdir: Path) -> None:
    """Every (kind, field path) in the corpus, in every object of that kind in a file that has it,
    replaced by each wrong value: a clear error or a correct report."""
    paths = field_paths()
    assert len(paths) > 500, "the corpus should exercise hundreds of field paths"
    problems: list[str] = []
    outcomes = {"error": 0, "report": 0}
    runs = 0
    for source, kind, field in paths:
        olds = [
            old for item in DOCS[source]["items"] if str(item.get("kind")) == kind for old in values_at(item, field)
        ]
        for variant in range(max(len(wrong_values(old)) for old in olds)):
            doc = fresh(source)

            def make(old: Any, v: int = variant) -> Any:
                values = wrong_values(old)
                return values[v % len(values)]

            count = sum(replace_at(item, field, make) for item in doc["items"] if str(item.get("kind")) == kind)
            assert count, (source, kind, field)
            target = write(workdir / "sweep.json", doc, "json")
            runs += 1
            try:
                # The schema is checked on a sample of the runs, to keep the sweep fast.
                outcome, _ = audit_file(target, validate=runs % 7 == 0)
                outcomes[outcome] += 1
            except (AssertionError, Exception) as exc:
                problems.append(
                    f"{source.relative_to(CASES)} {kind} {'.'.join(field)} variant {variant}: "
                    f"{type(exc).__name__}: {str(exc)[:300]}"
                )
    assert not problems, f"{len(problems)} failures, first ones:\n" + "\n".join(problems[:15])
    # Both outcomes occur: names and kinds are refused, most other fields are judged.
    assert outcomes["error"] > 0 and outcomes["report"] > outcomes["error"], outcomes


# ---------------------------------------------------------------------------------------------
# The real CLI on hostile files (subprocess: exit code, stderr and memory as a user sees them)

CLI_MEMORY_LIMIT = 2 * 1024**3
CLI_TIMEOUT_S = 60


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CLI_MEMORY_LIMIT, CLI_MEMORY_LIMIT))


def cli(path: Path, cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # this checkout's kfstor, whatever is installed
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", ENTRY, "audit", "--from", str(path), "--format", "json"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
        preexec_fn=_limit_memory,
    )
    return result, time.monotonic() - started


def assert_cli_error(result: subprocess.CompletedProcess[str], fragment: str) -> str:
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.returncode == 2, (result.returncode, result.stderr[-3000:])
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and result.stderr.endswith("\n"), result.stderr[-3000:]
    assert lines[0].startswith("kfstor: error: "), lines[0]
    assert fragment in lines[0], lines[0]
    return lines[0]


def assert_cli_report(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.stderr == "", result.stderr[-3000:]
    data = check_report(json.loads(result.stdout))
    assert result.returncode == data["gate"]["exit_code"]
    return data


def laughs(levels: int) -> str:
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * 10)}]")
    return "\n".join(lines) + "\n"


SC = "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: fast}\nprovisioner: ebs.csi.aws.com\n"
OBJECT_BOMB = (
    "apiVersion: v1\nkind: List\n"
    "x0: &x0 ["
    + ", ".join(["{kind: StorageClass, metadata: {name: fast}, provisioner: ebs.csi.aws.com}"] * 10)
    + "]\n"
    + "".join(f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 10)}]\n" for i in range(1, 9))
    + "items: *x8\n"
)
# The payload would create this file if the loader ever constructed Python objects.
PWNED = "kfstor-fuzz-pwned"

HOSTILE_FILES: dict[str, tuple[str | bytes, str | None]] = {
    # name: (file content, fragment of the one error line, or None for "a correct report")
    "billion-laughs.yaml": (laughs(9) + SC + "parameters: {type: *lol8}\n", "aliases"),
    "billion-laughs-objects.yaml": (OBJECT_BOMB, "aliases"),
    "recursive-alias.yaml": ("&a [*a]\n", "recursive alias"),
    "recursive-alias-in-field.yaml": (SC + "parameters: &p {type: *p}\n", "recursive alias"),
    "deep-flow.yaml": (SC + "parameters: {type: " + "[" * 100_000 + "]" * 100_000 + "}\n", "nested too deeply"),
    "deep-block.yaml": (SC + "parameters:\n  type:\n    " + "- " * 20_000 + "x\n", "nested too deeply"),
    "deep.json": (
        '{"kind": "StorageClass", "metadata": {"name": "x"}, "parameters": {"a": '
        + "[" * 100_000
        + "]" * 100_000
        + "}}",
        "JSON nested too deeply",
    ),
    "deep-but-parseable.json": (
        '{"apiVersion": "v1", "kind": "List", "items": [{"kind": "StorageClass", '
        '"metadata": {"name": "x"}, "provisioner": "ebs.csi.aws.com", "parameters": {"a": '
        + "[" * 300
        + "]" * 300
        + "}}]}",
        None,
    ),
    "python-tag.yaml": (
        SC + f"parameters: !!python/object/apply:os.system ['touch {PWNED}']\n",
        "could not determine a constructor for the tag 'tag:yaml.org,2002:python/object/apply",
    ),
    "python-name.yaml": (SC + "parameters: !!python/name:os.system ''\n", "could not determine a constructor"),
    "local-tag.yaml": (SC + "parameters: !custom {a: b}\n", "could not determine a constructor for the tag '!custom'"),
    "latin1.yaml": (SC.encode() + b"parameters: {zone: Z\xfcrich}\n", "not UTF-8 text (invalid byte at offset"),
    "utf16.yaml": (SC.encode("utf-16"), "not UTF-8 text"),
    "truncated.json": ('{"apiVersion": "v1", "kind": "List", "items": [{"kind": "StorageClass", "meta', "invalid JSON"),
    "truncated.yaml": (SC + 'parameters: {type: "gp3', "invalid YAML at line"),
    "no-metadata.yaml": ("apiVersion: v1\nkind: PersistentVolumeClaim\nspec: {}\n", "has no 'metadata' mapping"),
    "no-name.yaml": ("kind: Node\nmetadata: {labels: {a: b}}\n", "(Node) has no metadata.name"),
    "no-kind.yaml": ("apiVersion: v1\nmetadata: {name: x}\n", "has no 'kind'"),
    "multiline-kind.yaml": ('kind: "Storage\\nClass\\rX"\nmetadata: {}\n', "has no metadata.name"),
    "scalar-document.yaml": ("just a string\n", "is a str, expected a Kubernetes object"),
    "duplicate-keys.yaml": (
        "apiVersion: v1\nkind: List\nitems:\n- kind: StorageClass\n  kind: StorageClass\n"
        "  metadata: {name: first}\n  metadata: {name: second}\n  provisioner: a.example.com\n"
        "  provisioner: ebs.csi.aws.com\n",
        None,
    ),
    "small-anchors.yaml": (
        "apiVersion: v1\nkind: List\ncommon: &common {volumeBindingMode: WaitForFirstConsumer, "
        "reclaimPolicy: Retain, allowVolumeExpansion: true}\nitems:\n"
        "- {<<: *common, kind: StorageClass, metadata: {name: a}, provisioner: ebs.csi.aws.com}\n"
        "- {<<: *common, kind: StorageClass, metadata: {name: b}, provisioner: efs.csi.aws.com}\n",
        None,
    ),
    "enormous-strings.yaml": None,  # built below: too large to keep in this table's repr
}


def enormous_strings() -> str:
    big = "p" * (8 * 1024 * 1024)
    doc = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {
                    "name": "fast",
                    "annotations": {
                        "storageclass.kubernetes.io/is-default-class": "true",
                        "description": "d" * (4 * 1024 * 1024),
                    },
                },
                "provisioner": big,
                "parameters": {"type": "t" * (2 * 1024 * 1024)},
            },
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "n" * (1024 * 1024), "namespace": "kubeflow"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": "fast",
                    "resources": {"requests": {"storage": "9" * (1024 * 1024) + "Gi"}},
                },
                "status": {"phase": "Pending"},
            },
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": "e", "namespace": "kubeflow"},
                "involvedObject": {
                    "kind": "PersistentVolumeClaim",
                    "namespace": "kubeflow",
                    "name": "n" * (1024 * 1024),
                },
                "reason": "ProvisioningFailed",
                "message": "m " * (2 * 1024 * 1024),
            },
        ],
    }
    return json.dumps(doc)


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_hostile_file_through_the_cli(name: str, tmp_path: Path) -> None:
    spec = HOSTILE_FILES[name]
    content, fragment = (enormous_strings(), None) if spec is None else spec
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    result, elapsed = cli(path, tmp_path)
    assert elapsed < 30, f"{name} took {elapsed:.1f}s"
    if fragment is not None:
        assert_cli_error(result, fragment)
        assert not (tmp_path / PWNED).exists()
        return
    data = assert_cli_report(result)
    classes = {row["name"]: row for row in data["inventory"]["storage_classes"]}
    if name == "duplicate-keys.yaml":
        # The last value of a repeated key wins, as in every YAML loader kubectl users meet.
        assert list(classes) == ["second"] and classes["second"]["provisioner"] == "ebs.csi.aws.com"
    elif name == "small-anchors.yaml":
        # Ordinary anchors and merge keys still work.
        assert sorted(classes) == ["a", "b"]
        assert {(r["binding_mode"], r["reclaim_policy"], r["expansion"]) for r in classes.values()} == {
            ("WaitForFirstConsumer", "Retain", True)
        }
    elif name == "deep-but-parseable.json":
        # A nested list is no parameter value: it is left out, not stringified.
        assert classes["x"]["parameters"] == {}
    elif name == "enormous-strings.yaml":
        # Multi-MB strings are carried through intact, not truncated or crashing a check.
        assert len(classes["fast"]["provisioner"]) == 8 * 1024 * 1024
        assert classes["fast"]["parameters"]["type"] == "t" * (2 * 1024 * 1024)
        claims = {c["id"]: c for c in data["checks"]}["claim_health"]["findings"]
        assert any(f["name"] == "n" * (1024 * 1024) for f in claims)
