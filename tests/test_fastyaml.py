"""The fast YAML reader (kfstor/collect/fastyaml.py) against kfstor's PyYAML loader: identical objects.

The fast path reads only a checked subset of YAML; whenever it answers, its documents must be
exactly the PyYAML loader's (same types too: True is not 1, 1.0 is not 1), and PyYAML must not have
refused the file. Inputs: every corpus file and example written as kubectl and `kfstor snapshot`
write YAML (there the fast path must apply), a large generated snapshot, hypothesis-generated
documents from an emitter that writes scalars in random styles without caring whether a plain
`yes` or `0777` changes type (so the subset check has to catch it), and random line-level
mutations of such files. Hostile files padded past the fast reader's size threshold keep the
PyYAML loader's errors.
"""

from __future__ import annotations

import json
import math
import os
import string
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kfstor.collect import fastyaml
from kfstor.collect.snapshot import InputError, _yaml_loader, from_files, write

REPO = Path(__file__).resolve().parents[1]
CORPUS = sorted((REPO / "tests" / "cases").rglob("*.yaml")) + sorted((REPO / "examples").glob("*.yaml"))

pytestmark = pytest.mark.skipif(not fastyaml.SUPPORTED, reason="the fast YAML path needs Python 3.11+")
# CI installs kfstor's dependencies, rapidyaml included: there a missing rapidyaml fails instead of skipping.
ryml = __import__("ryml") if os.environ.get("CI") else pytest.importorskip("ryml")

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down, keys in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(k, k2) and same(a[k], b[k2]) for k, k2 in zip(a, b, strict=True))
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def slow_load(text: str) -> list[Any] | None:
    """kfstor's PyYAML loader, or None when it refuses the text."""
    try:
        return list(yaml.load_all(text, Loader=_yaml_loader()))
    except (yaml.YAMLError, RecursionError):
        return None


def fast_load(text: str) -> list[Any] | None:
    return fastyaml.load_all(text.encode("utf-8"), text)


def assert_agree(text: str) -> bool:
    """The fast reader either declines or gives exactly the PyYAML loader's documents. True if it answered."""
    fast = fast_load(text)
    if fast is None:
        return False
    slow = slow_load(text)
    assert slow is not None, f"the fast reader accepted YAML that PyYAML refuses:\n{text[:2000]}"
    assert same(fast, slow), f"different objects:\nfast {fast!r:.1500}\nslow {slow!r:.1500}\n{text[:2000]}"
    return True


# ---------------------------------------------------------------------------------------------
# A kubectl-style emitter (go-yaml: block style, `- ` at the parent's column, strings quoted only
# when needed, long strings folded, multi-line strings as literal blocks). With `careless`, it
# picks scalar styles at random, plain included, whatever the scalar's type would become.


def _plain_ok(s: str) -> bool:
    """Syntactically a plain scalar on one line (typing aside)."""
    if not s or s != s.strip() or "\n" in s or ": " in s or " #" in s or s.endswith(":"):
        return False
    return s[0] not in "-?:,[]{}#&*!|>'\"%@`" and all(c.isprintable() for c in s)


def _needs_quotes(s: str) -> bool:
    """What go-yaml quotes: anything not a plain string that YAML 1.1 would read back as a string."""
    if not _plain_ok(s):
        return True
    resolved = yaml.resolver.Resolver().resolve(yaml.ScalarNode, s, (True, False))
    return bool(resolved != "tag:yaml.org,2002:str")


class Emitter:
    def __init__(self, rnd: Any = None, width: int = 80) -> None:
        self.rnd = rnd  # a hypothesis `data` draw function for careless styles, else None
        self.width = width
        self.lines: list[str] = []

    def choose(self, options: list[str], label: str) -> str:
        if self.rnd is None:
            return options[0]
        choice: str = self.rnd(st.sampled_from(options), label=label)
        return choice

    def scalar(self, value: Any, col: int) -> list[str]:
        """A scalar as the text after `key: ` / `- `, plus continuation lines indented past `col`."""
        if value is None:
            return [self.choose(["null", "~", "Null"], "null style")]
        if value is True or value is False:
            word = "true" if value else "false"
            return [self.choose([word, word.capitalize(), "yes" if value else "no"], "bool style")]
        if isinstance(value, int | float):
            text = repr(value) if isinstance(value, float) else str(value)
            if isinstance(value, float) and not math.isfinite(value):
                text = ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
            return [self.choose([text, f'"{text}"'], "number style")]
        s = str(value)
        if self.rnd is not None:
            style = self.choose(["plain", "single", "double", "literal"], "string style")
        elif "\n" in s and s.strip() and s == s.rstrip(" "):
            style = "literal"
        else:
            style = "double" if _needs_quotes(s) else "plain"
        pad = " " * (col + 2)
        if style == "literal" and "\n" in s:
            chomp = "" if s.endswith("\n") and not s.endswith("\n\n") else "-" if not s.endswith("\n") else "+"
            body = s[:-1] if s.endswith("\n") else s
            return ["|" + chomp] + [(pad + line) if line else "" for line in body.split("\n")]
        if style == "single":
            text = "'" + s.replace("'", "''").replace("\n", "\n\n") + "'"
        elif style == "double" or style == "literal":
            text = json.dumps(s, ensure_ascii=self.choose(["no", "yes"], "ascii") == "yes")
        else:
            text = s
        return self.fold(text, pad)

    def fold(self, text: str, pad: str) -> list[str]:
        """Break long text at single spaces onto continuation lines, as go-yaml and PyYAML do."""
        lines = text.split("\n")
        out: list[str] = []
        for line in lines:
            words = line.split(" ")
            current = words[0]
            for word in words[1:]:
                if len(current) > self.width and word and current and not current.endswith(" "):
                    out.append(current)
                    current = word
                else:
                    current += " " + word
            out.append(current)
        return [out[0]] + [(pad + line) if line else "" for line in out[1:]]

    def key(self, k: Any) -> str:
        plain = self.choose(["plain", "double", "single"], "key style") == "plain"
        if isinstance(k, str) and not _needs_quotes(k) and plain:
            return k
        if isinstance(k, str):
            if self.choose(["double", "single"], "quoted key") == "single" and "\n" not in k:
                return "'" + k.replace("'", "''") + "'"
            return json.dumps(k)
        return self.scalar(k, 0)[0]

    def node(self, value: Any, col: int, prefix: str) -> None:
        """Write `value` after `prefix` (which ends where the value starts: 'key:' or '- ')."""
        if isinstance(value, dict):
            if not value:
                self.lines.append(prefix + (" {}" if prefix.endswith(":") else "{}"))
                return
            first = True
            for k, v in value.items():
                if prefix.endswith("- ") and first:
                    head, kcol = prefix, col
                else:
                    if first:
                        self.lines.append(prefix)
                    head, kcol = " " * col, col
                first = False
                self.node(v, kcol + 2, head + self.key(k) + ":")
            return
        if isinstance(value, list):
            if not value:
                self.lines.append(prefix + (" []" if prefix.endswith(":") else "[]"))
                return
            # a list in a list ("- - x" in go-yaml) starts on the next line after a bare "-"
            self.lines.append(prefix.rstrip() if prefix.endswith("- ") else prefix)
            indentless = self.choose(["indentless", "indented"], "seq") == "indentless"
            dash_col = max(col - 2 if prefix.endswith(":") and indentless else col, 0)
            for item in value:
                self.node(item, dash_col + 2, " " * dash_col + "- ")
            return
        parts = self.scalar(value, col - 2)
        sep = " " if prefix.endswith(":") else ""
        self.lines.append(prefix + sep + parts[0])
        self.lines.extend(parts[1:])

    def document(self, doc: Any) -> str:
        self.lines = []
        if isinstance(doc, dict):
            for k, v in doc.items():
                self.node(v, 2, self.key(k) + ":")
        elif isinstance(doc, list):
            for item in doc:
                self.node(item, 2, "- ")
        else:
            raise ValueError("documents are mappings or lists")
        return "\n".join(self.lines) + "\n"


def kubectl_yaml(doc: Any) -> str:
    return Emitter().document(doc)


def unshared(node: Any) -> Any:
    """A copy without shared sub-objects (PyYAML's dumper writes those as anchors and aliases)."""
    if isinstance(node, dict):
        return {k: unshared(v) for k, v in node.items()}
    if isinstance(node, list):
        return [unshared(v) for v in node]
    return node


def snapshot_yaml(doc: Any) -> str:
    """What `kfstor snapshot` writes (PyYAML's dumper, block style)."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text: str = yaml.dump(unshared(doc), Dumper=dumper, sort_keys=False, default_flow_style=False, allow_unicode=True)
    return text


# ---------------------------------------------------------------------------------------------
# Corpus and examples, as the two writers of real input write them


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(REPO)))
def test_corpus_files_as_kubectl_and_snapshot_yaml(path: Path) -> None:
    docs = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=_yaml_loader()))
    for doc in docs:
        for text in (kubectl_yaml(doc), snapshot_yaml(doc)):
            assert slow_load(text) is not None
            assert assert_agree(text), f"the fast reader declined {path.name} written as:\n{text[:1500]}"


def test_the_corpus_files_themselves_read_alike() -> None:
    """Hand-written corpus files (comments, flow style) are outside the subset or read alike."""
    for path in CORPUS:
        assert_agree(path.read_text(encoding="utf-8"))


def test_a_large_snapshot_reads_alike_through_from_files(tmp_path: Path) -> None:
    """Past the size threshold from_files takes the fast path; the Snapshot equals the PyYAML one."""
    sys.path.insert(0, str(REPO))
    from benchmarks.synth import cluster

    objects = cluster(200)
    doc = {"apiVersion": "v1", "kind": "List", "metadata": {}, "items": objects}
    for name, text in (("kubectl.yaml", kubectl_yaml(doc)), ("snapshot.yaml", snapshot_yaml(doc))):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        assert len(text) > fastyaml.MIN_BYTES
        assert fast_load(text) is not None
        fast = from_files([str(path)])
        slow_docs = slow_load(text)
        assert slow_docs is not None
        json_path = tmp_path / (name + ".json")
        json_path.write_text(json.dumps(slow_docs[0]), encoding="utf-8")
        slow = from_files([str(json_path)])
        assert same({k: list(v) for k, v in fast.objects.items()}, {k: list(v) for k, v in slow.objects.items()})


def test_snapshot_files_written_by_kfstor_take_the_fast_path(tmp_path: Path) -> None:
    snap = from_files([str(REPO / "examples" / "portworx-kubeflow-1.10.yaml")])
    out = tmp_path / "snap.yaml"
    with out.open("w", encoding="utf-8") as handle:
        write(snap, handle, "yaml", server="https://example.invalid:6443")
    assert assert_agree(out.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------
# Generated documents, scalars in careless styles

TRICKY = [
    "yes", "no", "on", "off", "Yes", "NO", "True", "FALSE", "true", "false", "null", "Null", "NULL", "~", "",
    "y", "n", "Y", "nan", "NaN", ".nan", "inf", "infinity", ".inf", "-.inf", "+.inf", "-inf", ".Inf",
    "0", "-0", "00", "007", "0777", "0o17", "0x1F", "-0x1F", "0b101", "1_000", "+5", "+1.5", "1e3", "1E3", "1.5e3",
    "1.5e+3", "1.5E-3", "-1.5", ".5", "-.5", "5.", "-5.", "1:20", "1:20.5", "190:20:30", "1.2.3", "10.0.0.1",
    "2024-01-01", "2024-1-1", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "2024-01-01T00:00:00Z",
    "12345678-1234-1234-1234-123456789abc", "0b123456-abcd-ef01-2345-6789abcdef01",
    "1234567e-1234-5678-9abc-def012345678", "7e97d2f16bb5a4ab", "7e97", "6.6.72+", "10.16.153.105:6789", "-iam", "-inf",
    "10Gi", "500m", "1.5Gi", "0/3 nodes are available", "8080", "65536", "99999999999999999999", "1.0e+999",
    "<<", "=", "-", "--", "- x", ":", "a: b", "a:b", "#x", "x #y", "x#y", "'q'", '"q"', "\\", "\\n", "é", "日本",
    " lead", "trail ", "two  spaces", "a\nb", "a\n\nb", "ends\n", "ends\n\n", "\n", "tab\there", "\x85", "\u2028",
    "\ufeff", "\x00", "\x1b", "---", "...", "--- x", "@at", "`tick", "%pct", "!bang", "&amp", "*star", "[x]", "{x}",
    "x,y", "?q", "|", ">", "a " * 60 + "end", "word" * 30, "1 2", "5 apples", "yes sir",
]  # fmt: skip
KEYS = ["name", "yes", "on", "true", "null", "nan", "inf", "1", "1.5", "a.b/c-d_e", "Key", "~", "2024-01-01", "a b"]


def _scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(TRICKY),
        st.text(alphabet=string.ascii_letters + string.digits + " .:-_/#'\"\\\n", max_size=40),
        st.text(max_size=12),
        st.integers(min_value=-(10**20), max_value=10**20),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.none(),
    )


def _documents() -> st.SearchStrategy[Any]:
    keys = st.one_of(st.sampled_from(KEYS), st.text(alphabet=string.ascii_lowercase + "._/-", min_size=1, max_size=8))
    tree = st.recursive(
        _scalars(),
        lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)),
        max_leaves=25,
    )
    return st.dictionaries(keys, tree, min_size=1, max_size=5)


@settings(FUZZ, max_examples=700)
@given(doc=_documents(), data=st.data(), width=st.sampled_from([20, 80]))
def test_careless_styles_read_alike(doc: Any, data: st.DataObject, width: int) -> None:
    text = Emitter(data.draw, width).document(doc)
    assert_agree(text)


@settings(FUZZ, max_examples=300)
@given(doc=_documents(), width=st.sampled_from([20, 80]))
def test_kubectl_style_of_generated_documents_reads_alike(doc: Any, width: int) -> None:
    text = Emitter(None, width).document(doc)
    assert_agree(text)
    assert_agree(snapshot_yaml(doc))


MUTATIONS = ["indent+1", "indent-1", "indent+2", "delete", "duplicate", "swap", "join", "split", "insert"]
INSERTS = ["x: yes", "- on", "  - 0777", "y: 1e3", "z: ~", "'k': v", "- - a", "a: |", "  b", "---", "...", "# c", ""]


@settings(FUZZ, max_examples=600)
@given(doc=_documents(), data=st.data())
def test_mutated_files_read_alike(doc: Any, data: st.DataObject) -> None:
    """Lines re-indented, dropped, doubled, swapped, joined or split: still agree (or decline)."""
    lines = kubectl_yaml(doc).split("\n")[:-1]
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        if not lines:
            break
        i = data.draw(st.integers(0, len(lines) - 1), label="line")
        how = data.draw(st.sampled_from(MUTATIONS), label="how")
        line = lines[i]
        if how == "indent+1":
            lines[i] = " " + line
        elif how == "indent+2":
            lines[i] = "  " + line
        elif how == "indent-1" and line.startswith(" "):
            lines[i] = line[1:]
        elif how == "delete":
            del lines[i]
        elif how == "duplicate":
            lines.insert(i, line)
        elif how == "swap" and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], line
        elif how == "join" and i + 1 < len(lines):
            lines[i : i + 2] = [line + " " + lines[i + 1].lstrip()]
        elif how == "split" and " " in line.strip():
            cut = data.draw(st.integers(0, len(line) - 1), label="cut")
            lines[i : i + 1] = [line[:cut], " " * data.draw(st.integers(0, 6), label="pad") + line[cut:]]
        elif how == "insert":
            lines.insert(i, data.draw(st.sampled_from(INSERTS), label="inserted"))
    assert_agree("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    "text",
    [
        "a: yes\n", "a: '1'\nb: 0777\n", "a: 1e3\n", "- ~\n", "a: 2024-01-01\n", "a: -.5\n", "yes: 1\n", "1: a\n",
        "'inf': 1\n", "a: &x 1\nb: *x\n", "a: !!str 1\n", "a: [1, 2]\n", "a: 1 # c\n", "a: x  \n", "a:\tb\n",
        "a: b\r\n", "a: |2\n   x\n", "a: >\n  x\n", "? a\n: b\n", "a: foo\n  - 'bar\nb: yes\nc: x'\n",
        "a: foo\n  'bar\nb: yes\nc: x'\n", "- a: |\n  b: yes\n", "a: 'x\n---\ny'\n", "%YAML 1.1\n---\na: 1\n",
    ],
)  # fmt: skip
def test_constructs_outside_the_subset_are_declined(text: str) -> None:
    assert not fastyaml.in_subset(text.encode(), text), text
    assert fast_load(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "a: b\nc:\n- d\n- e: f\n  g: 10Gi\n",
        "a: 'it''s'\nb: \"q\\\"\\u00e9\"\n",
        "a: |\n  l1\n\n  l2\nb: |-\n  x\n    y\n",
        "a: long plain text\n  continued here\nb: 1\n",
        "---\na: 1\n---\nb: 2\n",
        "- 1.5\n- -3\n- 10.0.0.1\n- 59a3fca6-beae-45c0-b9c0-383edbabac3c\n- true\n- null\n- {}\n- []\n",
    ],
)
def test_constructs_inside_the_subset_read_alike(text: str) -> None:
    assert assert_agree(text), text


# ---------------------------------------------------------------------------------------------
# Through from_files: protections, fallback, a quiet stderr

PAD = "apiVersion: v1\nkind: List\nmetadata:\n  annotations:\n" + "".join(
    f"    pad{i}: '{'x' * 60}'\n" for i in range(1200)
)


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        ("items:\n- kind: StorageClass\n  metadata:\n    name: a\n  parameters:\n    x:\n      "
         + "- " * 20_000 + "x\n", "nested too deeply"),
        ("items:\n" + "".join(f"{'  ' * i}- \n" for i in range(3000)), None),
        ("x0: &x0 [" + ", ".join(["{kind: StorageClass, metadata: {name: a}}"] * 10) + "]\n"
         + "".join(f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 10)}]\n" for i in range(1, 9)) + "items: *x8\n",
         "aliases"),
        ("items:\n- kind: StorageClass\n  metadata:\n    name: a\n  b: 1\n c: 2\n", "invalid YAML at line"),
    ],
)  # fmt: skip
def test_large_hostile_files_keep_the_loader_protections(
    tail: str, message: str | None, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(PAD + tail, encoding="utf-8")
    assert path.stat().st_size > fastyaml.MIN_BYTES
    if message is None:
        try:
            from_files([str(path)])
        except InputError as exc:
            assert "\n" not in str(exc)
    else:
        with pytest.raises(InputError, match=message):
            from_files([str(path)])
    assert capfd.readouterr().err == ""


def test_rapidyaml_rejecting_a_subset_file_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    """In the subset but wrongly indented: rapidyaml raises (and would print), PyYAML words the error."""
    text = PAD + "items:\n- a: 1\n  b: 2\n c: 3\n"
    assert fastyaml.in_subset(text.encode(), text)
    assert fast_load(text) is None
    assert slow_load(text) is None
    assert capfd.readouterr().err == ""


def test_without_rapidyaml_the_loader_reads_everything(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(PAD + "items:\n- kind: StorageClass\n  metadata:\n    name: fast\n", encoding="utf-8")
    with_fast = from_files([str(path)])
    monkeypatch.setitem(sys.modules, "ryml", None)  # `import ryml` now raises ImportError
    assert fastyaml.load_all(path.read_bytes(), path.read_text()) is None
    without = from_files([str(path)])
    assert same(list(with_fast.of("StorageClass")), list(without.of("StorageClass")))
    assert without.of("StorageClass")[0]["metadata"]["name"] == "fast"
