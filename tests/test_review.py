"""Reviews: waivers, overrides and --skip by problem code; kfstor explain; kfstor diff and
audit --baseline; --color; many findings grouped; root causes ordering the report."""

from __future__ import annotations

import itertools
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from kfstor.collect.snapshot import build, from_files
from kfstor.engine import config as config_mod
from kfstor.engine import runner
from kfstor.engine.loader import load_checks
from kfstor.model import Status
from kfstor.render import grouping
from tests.test_render import render

REPO = Path(__file__).resolve().parents[1]
ENTRY = "import sys; sys.argv[0] = 'kfstor'; from kfstor.cli import main; main()"
NO_DEFAULT = REPO / "examples" / "no-default-pending.yaml"
NFS = REPO / "tests" / "cases" / "stateful_storage" / "nfs-subdir.yaml"
CHECKS = {c.id: c for c in load_checks(include_plugins=False).checks}
KATIB = "PersistentVolumeClaim/kubeflow/katib-mysql"


def kfstor(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR")}
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *map(str, args)],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


# --- problem codes in kfstor.yaml and on the command line -------------------------------------


def stateful(config: config_mod.Config) -> dict[tuple[str, str], tuple[str, str]]:
    result = runner.run([CHECKS["stateful_storage"]], from_files([str(NFS)]), config=config).results[0]
    return {(str(f.ref), f.code): (f.status.value, f.note) for f in result.findings}


def test_a_waiver_of_one_problem_leaves_the_other_visible() -> None:
    config = config_mod.parse(
        {"waivers": [{"code": "KFS-DB-RECLAIM-DELETE", "object": KATIB, "reason": "patched by hand (OPS-1)"}]},
        "kfstor.yaml",
    )
    got = stateful(config)
    assert got[(KATIB, "KFS-DB-RECLAIM-DELETE")] == ("pass", "")
    assert got[(KATIB, "KFS-DB-SHARED-FS")] == ("warn", "")
    assert got[("PersistentVolumeClaim/kubeflow/mysql-pv-claim", "KFS-DB-RECLAIM-DELETE")] == ("warn", "")


def test_a_waiver_for_a_code_on_every_object() -> None:
    config = config_mod.parse({"waivers": [{"code": "KFS-DB-SHARED-FS", "reason": "accepted"}]}, "kfstor.yaml")
    got = stateful(config)
    assert {k: v for k, v in got.items() if k[1] == "KFS-DB-SHARED-FS"} == {
        (KATIB, "KFS-DB-SHARED-FS"): ("pass", ""),
        ("PersistentVolumeClaim/kubeflow/minio-pvc", "KFS-DB-SHARED-FS"): ("pass", ""),
        ("PersistentVolumeClaim/kubeflow/mysql-pv-claim", "KFS-DB-SHARED-FS"): ("pass", ""),
    }
    assert all(v[0] == "warn" for k, v in got.items() if k[1] == "KFS-DB-RECLAIM-DELETE")


def test_an_override_for_a_code_and_one_object_outranks_the_code() -> None:
    config = config_mod.parse(
        {
            "overrides": [
                {"code": "KFS-DB-RECLAIM-DELETE", "status": "fail"},
                {"code": "KFS-DB-RECLAIM-DELETE", "object": KATIB, "status": "off"},
            ]
        },
        "kfstor.yaml",
    )
    got = stateful(config)
    assert got[(KATIB, "KFS-DB-RECLAIM-DELETE")] == ("skip", "warn turned off by kfstor.yaml: overrides[1]")
    assert got[("PersistentVolumeClaim/kubeflow/minio-pvc", "KFS-DB-RECLAIM-DELETE")] == (
        "fail",
        "warn raised to fail by kfstor.yaml: overrides[0]",
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"overrides": [{"code": "no", "status": "off"}]}, "overrides[0].code must be a problem code"),
        ({"overrides": [{"code": "KFS-DB-NO-EXPANSION", "status": "loud"}]}, "overrides[0].status must be one of"),
        ({"overrides": {"code": "KFS-X"}}, "overrides must be a list"),
        ({"waivers": [{"code": "KFS-X"}]}, "waivers[0] is missing reason"),
        ({"waivers": [{"object": "cluster", "reason": "r"}]}, "waivers[0] is missing check"),
    ],
)
def test_malformed_code_settings(data: object, message: str) -> None:
    with pytest.raises(config_mod.ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        config_mod.parse(data, "kfstor.yaml")


def test_skip_a_code_on_one_object_from_the_command_line() -> None:
    result = kfstor(
        "audit", "--from", NFS, "--check", "stateful_storage", "-f", "json", "--skip", f"KFS-DB-SHARED-FS:{KATIB}"
    )
    assert result.returncode == 0, result.stderr  # stateful_storage warns, which passes --fail-on fail
    findings = json.loads(result.stdout)["checks"][0]["findings"]
    got = {(f["object"], f.get("code")): (f["status"], f.get("note", "")) for f in findings}
    assert got[(KATIB, "KFS-DB-SHARED-FS")] == ("skip", f"warn turned off by --skip KFS-DB-SHARED-FS:{KATIB}")
    assert got[("PersistentVolumeClaim/kubeflow/minio-pvc", "KFS-DB-SHARED-FS")] == ("warn", "")


@pytest.mark.parametrize("value", ["KFS-DB-RECLAIM-DELETE:", "kfs-db-reclaim-delete: "])
def test_skip_a_code_with_nothing_after_the_colon_is_a_usage_error(value: str) -> None:
    """Read as the bare code it would turn the code off on every object: a typo must not do that."""
    result = kfstor("audit", "--from", NFS, "--skip", value)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"kfstor: error: --skip {value} names no object after the colon (--skip KFS-DB-RECLAIM-DELETE turns "
        "the code off on every object, --skip KFS-DB-RECLAIM-DELETE:Kind/namespace/name on one)\n"
    )


CEPH = REPO / "examples" / "ceph-kubeflow-1.11.yaml"
SEAWEED = "PersistentVolumeClaim/kubeflow/seaweedfs-pvc"


def test_a_finding_turned_off_stays_visible_in_every_human_format(tmp_path: Path) -> None:
    """An override `off` or a --skip by code sets a problem aside; the reader still sees it, with
    who turned it off, in the terminal, HTML and Markdown (it once vanished into "1 skipped")."""
    (tmp_path / "kfstor.yaml").write_text(
        f"overrides:\n  - {{code: KFS-DB-RECLAIM-DELETE, object: {SEAWEED}, status: off}}\n", encoding="utf-8"
    )
    args = ("audit", "--from", CEPH, "--skip", "KFS-REPL-UNVERIFIABLE:PersistentVolumeClaim/kubeflow/katib-mysql")
    html, md = tmp_path / "r.html", tmp_path / "r.md"
    result = kfstor(*args, "--html", html, "--markdown", md, cwd=tmp_path, env={"COLUMNS": "1000"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert (
        f"      SKIP  KFS-DB-RECLAIM-DELETE {SEAWEED}: Pipelines artifact store (SeaweedFS) claim "
        "kubeflow/seaweedfs-pvc on StorageClass rook-ceph-block: its PersistentVolume "
        "pvc-ff4b01e8-f65b-5b07-98a9-95d6740204e1 has reclaim policy Delete: deleting the claim destroys the "
        "Pipelines artifact store (SeaweedFS) data; patch the volume's persistentVolumeReclaimPolicy to Retain "
        f"[warn turned off by {tmp_path / 'kfstor.yaml'}: overrides[0]]"
    ) in lines
    assert [line for line in lines if "SKIP  KFS-REPL-UNVERIFIABLE" in line] == [
        "      SKIP  KFS-REPL-UNVERIFIABLE PersistentVolumeClaim/kubeflow/katib-mysql: Katib MySQL claim "
        "kubeflow/katib-mysql on StorageClass rook-ceph-block: cannot verify replication from the class: Ceph RBD: "
        "the Ceph pool's size (ceph osd pool get replicapool size) sets the copies [warn turned off by --skip "
        "KFS-REPL-UNVERIFIABLE:PersistentVolumeClaim/kubeflow/katib-mysql]"
    ]
    page = html.read_text(encoding="utf-8")
    attention = page[page.index('<section id="attention">') : page.index('<section id="quiet"')]
    assert f'<div class="note">warn turned off by {tmp_path / "kfstor.yaml"}: overrides[0]</div>' in attention
    assert '<div class="note">warn turned off by --skip KFS-REPL-UNVERIFIABLE:' in attention
    text = md.read_text(encoding="utf-8")
    needs = text[text.index("### Needs attention") : text.index("<details><summary>Passing and skipped")]
    assert f"- ⏭️ `KFS-DB-RECLAIM-DELETE` `{SEAWEED}`: " in needs
    assert "(warn turned off by --skip KFS-REPL-UNVERIFIABLE:PersistentVolumeClaim/kubeflow/katib-mysql)" in needs


def test_skip_an_unknown_code_is_a_usage_error() -> None:
    result = kfstor("audit", "--from", NFS, "--skip", "KFS-NO-SUCH-THING")
    assert result.returncode == 2
    assert result.stderr == (
        "kfstor: error: --skip KFS-NO-SUCH-THING: unknown problem code KFS-NO-SUCH-THING (kfstor explain lists them)\n"
    )


def test_skip_a_code_typed_in_lower_case_or_misspelt() -> None:
    lower = kfstor("audit", "--from", NFS, "--check", "stateful_storage", "-f", "json", "--skip", "kfs-db-shared-fs")
    assert lower.returncode == 0, lower.stderr
    findings = json.loads(lower.stdout)["checks"][0]["findings"]
    assert {f["status"] for f in findings if f.get("code") == "KFS-DB-SHARED-FS"} == {"skip"}
    typo = kfstor("audit", "--from", NFS, "--skip", "KFS-DB-SHARED-F")
    assert (typo.returncode, typo.stderr) == (
        2,
        "kfstor: error: --skip KFS-DB-SHARED-F: unknown problem code KFS-DB-SHARED-F "
        "(did you mean KFS-DB-SHARED-FS?) (kfstor explain lists them)\n",
    )
    explain = kfstor("explain", "KFS-DEFAULT-NON")
    assert (explain.returncode, explain.stderr) == (
        2,
        "kfstor: error: unknown problem code 'KFS-DEFAULT-NON' (did you mean KFS-DEFAULT-NONE?) "
        "(kfstor explain lists them)\n",
    )


# --- kfstor explain -----------------------------------------------------------------------------


def test_explain_a_code() -> None:
    result = kfstor("explain", "kfs-default-none")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "KFS-DEFAULT-NONE: No default StorageClass (check default_storage_class)"
    assert any(line.startswith("Why it matters for Kubeflow: Kubeflow's platform claims") for line in lines)
    assert "  https://kubernetes.io/docs/tasks/administer-cluster/change-default-storage-class/" in lines


def test_explain_wraps_at_the_terminal_width_between_words() -> None:
    entry = next(code for c in CHECKS.values() for code in c.codes if code.id == "KFS-DB-RECLAIM-DELETE")
    result = kfstor("explain", "KFS-DB-RECLAIM-DELETE", env={"COLUMNS": "60"})
    paragraphs = [" ".join(p.split()) for p in result.stdout.split("\n\n")]
    assert paragraphs[1:4] == [
        f"What it means: {entry.meaning}",
        f"Why it matters for Kubeflow: {entry.why}",
        f"How to fix it: {entry.fix}",
    ]
    # Only a link, which cannot be cut, may run past the width.
    assert [line for line in result.stdout.splitlines() if len(line) > 60 and len(line.split()) > 1] == []
    assert "  before install, use a class with reclaimPolicy: Retain." in result.stdout.splitlines()


def test_explain_lists_every_code_and_rejects_unknown_ones() -> None:
    listing = kfstor("explain")
    assert listing.returncode == 0
    # A row wraps under its title at the width: the codes are the lines that do not start indented.
    codes = [line.split()[0] for line in listing.stdout.splitlines() if not line.startswith(" ")]
    assert codes == sorted(code.id for c in CHECKS.values() for code in c.codes)
    unknown = kfstor("explain", "KFS-NOPE")
    assert (unknown.returncode, unknown.stderr) == (
        2,
        "kfstor: error: unknown problem code 'KFS-NOPE' (kfstor explain lists them)\n",
    )


# --- review over time ---------------------------------------------------------------------------


def write_reports(tmp_path: Path) -> tuple[Path, Path]:
    """An old report of the no-default example, and a new one after the default was set on longhorn."""
    old = tmp_path / "old.json"
    assert kfstor("audit", "--from", NO_DEFAULT, "--json", old, "-f", "json").returncode == 1
    fixed = NO_DEFAULT.read_text(encoding="utf-8").replace(
        "      storageclass.kubernetes.io/is-default-class: 'false'",
        "      storageclass.kubernetes.io/is-default-class: 'true'",
    )
    assert fixed != NO_DEFAULT.read_text(encoding="utf-8")
    after = tmp_path / "fixed.yaml"
    after.write_text(fixed, encoding="utf-8")
    new = tmp_path / "new.json"
    kfstor("audit", "--from", after, "--json", new, "-f", "json")
    return old, new


def test_diff_shows_new_resolved_and_unchanged_by_code_and_object(tmp_path: Path) -> None:
    old, new = write_reports(tmp_path)
    result = kfstor("diff", old, new, "-f", "json")
    doc = json.loads(result.stdout)
    resolved = {(i["code"], i["object"]) for i in doc["resolved"]}
    assert ("KFS-DEFAULT-NONE", "cluster") in resolved
    assert ("KFS-PVC-PENDING-NO-DEFAULT", KATIB) in resolved
    new_codes = {i["code"] for i in doc["new"]}
    # With longhorn the default, its Delete policy on the still-Pending claims is a new warning.
    assert new_codes and all(i["status"] in ("warn", "fail") for i in doc["new"])
    assert result.returncode == (1 if any(i["status"] == "fail" for i in doc["new"]) else 0)
    table = kfstor("diff", old, new)
    created = json.loads(old.read_text(encoding="utf-8"))["created"]
    lines = table.stdout.splitlines()
    assert lines[0].startswith(f"SINCE THE LAST REVIEW — baseline {created}: ")
    assert "resolved  FAIL  KFS-DEFAULT-NONE on cluster" in table.stdout
    markdown = kfstor("diff", old, new, "-f", "markdown")
    assert markdown.stdout.startswith(f"### Since the last review\n\nBaseline {created}: ")
    assert "**Resolved**" in markdown.stdout


def test_diff_of_a_report_with_itself_has_nothing_new(tmp_path: Path) -> None:
    old, _ = write_reports(tmp_path)
    result = kfstor("diff", old, old, "-f", "json", "--fail-on", "warn")
    assert result.returncode == 0
    doc = json.loads(result.stdout)
    assert doc["new"] == [] and doc["resolved"] == []
    # Every problem of the report is unchanged: the root cause and the fails under it.
    problems = [
        (c["id"], f["code"], f["object"])
        for c in json.loads(old.read_text(encoding="utf-8"))["checks"]
        for f in c["findings"]
        if f["status"] in ("warn", "fail", "error")
    ]
    assert sorted((i["check"], i["code"], i["object"]) for i in doc["unchanged"]) == sorted(problems)
    assert ("default_storage_class", "KFS-DEFAULT-NONE", "cluster") in problems
    markdown = kfstor("diff", old, old, "-f", "markdown").stdout
    unchanged = markdown[markdown.index(f"<details><summary>Unchanged ({len(problems)})</summary>") :]
    assert unchanged.split("\n")[2].startswith("- fail `KFS-")  # the list, not its heading again


def test_a_baseline_never_excuses_what_could_not_be_seen() -> None:
    """Against a baseline only new problems fail the gate, but a check that could not look is still
    incomplete (exit 4), unless --allow-partial accepts the gap."""
    from dataclasses import replace

    from kfstor.model import EXIT_INCOMPLETE, EXIT_OK
    from kfstor.render.review import Review

    report = runner.run([CHECKS["default_storage_class"], CHECKS["claim_health"]], from_files([str(NO_DEFAULT)]))
    blind = tuple(
        replace(r, status=Status.NOT_EVALUATED, findings=(), reason="forbidden: list persistentvolumeclaims")
        if r.id == "claim_health"
        else r
        for r in report.results
    )
    nothing_new = Review("old.json", "2026-01-01T00:00:00Z", new=(), resolved=(), unchanged=())
    reviewed = replace(report, results=blind, review=nothing_new)
    assert reviewed.exit_status == EXIT_INCOMPLETE
    assert reviewed.verdict_key == "incomplete"
    assert replace(reviewed, allow_partial=True).exit_status == EXIT_OK
    assert replace(report, review=nothing_new).exit_status == EXIT_OK  # seen, known, nothing new: passes


def test_audit_with_a_baseline_fails_only_on_new_problems(tmp_path: Path) -> None:
    old, _ = write_reports(tmp_path)
    same = kfstor("audit", "--from", NO_DEFAULT, "--baseline", old, "-f", "json")
    assert same.returncode == 0, same.stderr  # the cluster still fails, but nothing is new
    doc = json.loads(same.stdout)
    assert doc["since_last_review"]["new"] == []
    assert doc["summary"]["verdict"] == "passed_with_warnings"
    html = tmp_path / "r.html"
    md = tmp_path / "r.md"
    kfstor("audit", "--from", NO_DEFAULT, "--baseline", old, "--html", html, "--markdown", md)
    assert 'id="review"' in html.read_text(encoding="utf-8")
    assert "### Since the last review" in md.read_text(encoding="utf-8")
    # The verdict line says why failing checks pass the gate.
    table = kfstor("audit", "--from", NO_DEFAULT, "--baseline", old)
    counts = doc["summary"]
    parts = ", ".join(f"{counts[s]} {s}" for s in ("error", "fail", "warn", "pass", "skip") if counts[s])
    assert table.stdout.splitlines()[-1] == (
        f"Storage readiness gate PASSED WITH WARNINGS ({parts}; against the baseline: 0 new, "
        f"{len(doc['since_last_review']['unchanged'])} known)"
    )
    # A baseline without the no-default failure: it is new, so the gate fails.
    empty = json.loads(old.read_text(encoding="utf-8"))
    for check in empty["checks"]:
        check["findings"] = []
    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps(empty), encoding="utf-8")
    fresh = kfstor("audit", "--from", NO_DEFAULT, "--baseline", clean)
    assert fresh.returncode == 1
    assert "new       FAIL  KFS-DEFAULT-NONE on cluster" in fresh.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not JSON"),
        ('{"schema": "other"}', 'not a kfstor JSON report (expected "schema": "kfstor.report/v1")'),
        ('{"schema": "kfstor.report/v1"}', "the report has no checks list"),
        ('{"schema": "kfstor.report/v1", "checks": [3]}', "checks[0] is not a check with an id"),
        (
            '{"schema": "kfstor.report/v1", "checks": [{"id": "a", "findings": "x"}]}',
            "checks[0].findings is not a list of findings",
        ),
    ],
)
def test_a_bad_baseline_is_one_line(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    for args in (("diff", bad, bad), ("audit", "--from", NO_DEFAULT, "--baseline", bad)):
        result = kfstor(*args)
        assert result.returncode == 2
        assert result.stderr.startswith(f"kfstor: error: {bad}: {message}"), result.stderr
        assert result.stderr.count("\n") == 1


# --- colour and width ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env", "colored"),
    [
        ((), {}, False),
        (("--color", "always"), {}, True),
        (("--color", "always"), {"NO_COLOR": "1"}, True),  # an explicit flag outranks the environment
        ((), {"FORCE_COLOR": "1"}, True),
        ((), {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
        (("--color", "never"), {"FORCE_COLOR": "1"}, False),
    ],
)
def test_color_flag_and_environment(args: tuple[str, ...], env: dict[str, str], colored: bool) -> None:
    result = kfstor("audit", "--from", NO_DEFAULT, *args, env=env)
    assert ("\x1b[" in result.stdout) is colored


@pytest.mark.parametrize("columns", [60, 80, 100, 132])
def test_no_line_is_longer_than_the_terminal(columns: int) -> None:
    result = kfstor("audit", "--from", NO_DEFAULT, env={"COLUMNS": str(columns)})
    lines = result.stdout.splitlines()
    # Only a word that cannot be cut (a quoted JSON patch, a URL) may stand alone past the width.
    assert [line for line in lines[:-1] if len(line) > columns and len(line.rstrip(" \\").split()) > 1] == []
    if columns >= 100:
        assert max(len(line) for line in lines[:-1]) <= columns
    assert [line for line in lines if line.endswith(" ")] == []  # no trailing blanks from a wrap
    # Hanging indent: a wrapped finding continues under its text, never at column 0.
    for before, line in itertools.pairwise(lines):
        if (
            before.startswith("      FAIL  ")
            and line
            and not line.startswith(("      ", "FAIL", "WARN", "PASS", "SKIP"))
        ):
            pytest.fail(f"continuation at column 0: {line!r}")
    verdict = json.loads(kfstor("audit", "--from", NO_DEFAULT, "-f", "json").stdout)["gate"]["verdict"]
    assert verdict.startswith("Storage readiness gate FAILED (")
    assert lines[-1] == verdict


def pasted(text: str) -> list[str]:
    """The `$ ` commands of a terminal report as one pastes them: the line and its ` \\` continuations."""
    lines = text.splitlines()
    commands = []
    for i, line in enumerate(lines):
        if line.lstrip().startswith("$ "):
            block = [line.lstrip()[2:]]
            while block[-1].endswith("\\"):
                block.append(lines[i + len(block)])
            commands.append("\n".join(block))
    return commands


@pytest.mark.parametrize("columns", [40, 60, 80, 100, 132])
@pytest.mark.parametrize("example", ["no-default-pending", "ceph-kubeflow-1.11"])
def test_fix_commands_paste_as_the_same_command_at_any_width(example: str, columns: int) -> None:
    """A fix pasted from the terminal into bash runs exactly the command of the JSON report: the
    report breaks it only at spaces with ` \\`, never inside a quoted argument or a URL."""
    path = REPO / "examples" / f"{example}.yaml"
    result = kfstor("audit", "--from", path, env={"COLUMNS": str(columns)})
    report = json.loads(kfstor("audit", "--from", path, "-f", "json").stdout)
    fixes = [f["fix"] for check in report["checks"] for f in check["findings"] if f.get("fix")]
    expected = [command for fix in fixes for command in fix["commands"]]
    got = []
    for command in pasted(result.stdout):
        if "|" in shlex.split(command.replace("\\\n", "")):
            # A pipeline: bash would run it; its words, with bash's line continuations removed.
            words = shlex.split(command.replace("\\\n", ""))
        else:
            shell = subprocess.run(
                ["bash", "-c", "printf '%s\\0' " + command], capture_output=True, text=True, check=True
            )
            words = shell.stdout.split("\0")[:-1]
        got.append(" ".join(shlex.quote(word) for word in words))
    assert got and sorted(set(got)) == sorted({" ".join(shlex.quote(w) for w in shlex.split(c)) for c in expected})
    docs = {fix["docs"] for fix in fixes}
    shown = {word for line in result.stdout.splitlines() for word in line.split() if word.startswith("https://")}
    assert docs and docs <= shown


# --- root causes and groups ---------------------------------------------------------------------


def test_the_root_cause_leads_and_orders_the_checks() -> None:
    report = runner.run(list(CHECKS.values()), from_files([str(NO_DEFAULT)]))
    groups = grouping.group(report)
    assert groups.headline() == "1 root cause; fixing it clears 6 findings and lets 10 skipped findings be judged"
    (root,) = groups.roots
    assert (root.root.check, root.root.finding.code) == ("default_storage_class", "KFS-DEFAULT-NONE")
    order = [r.id for r in grouping.ordered(report, groups)]
    assert order[0] == "default_storage_class"  # the root cause's check leads the checks it explains
    assert order.index("default_storage_class") < order.index("claim_health")
    assert order.index("default_storage_class") < order.index("kubeflow_claims")
    text = render(report, "table")
    assert text.index("ROOT CAUSES") < text.index("FAIL  default_storage_class")
    assert "$ kubectl patch storageclass longhorn -p" in text


def test_many_broken_claims_are_grouped_with_counts() -> None:
    source = from_files([str(NO_DEFAULT)]).source
    objects = [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "fast", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "ebs.csi.aws.com",
        }
    ]
    for i in range(101):
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": f"data-{i}", "namespace": f"team-{'a' if i < 60 else 'b'}"},
                "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast" if i % 2 else "gone"},
                "status": {"phase": "Pending"},
            }
        )
    report = runner.run([CHECKS["claim_health"]], build(objects, source))
    result = report.results[0]
    assert result.status is Status.FAIL
    located = [grouping.Located(result.id, i, f) for i, f in enumerate(result.findings)]
    groups = grouping.finding_groups(report, result, located)
    assert [(g.code, len(g.items)) for g in groups] == [("KFS-PVC-PENDING-CLASS-MISSING", 51), ("KFS-PVC-PENDING", 50)]
    assert groups[0].facets == (
        ("namespace", (("team-a", 30), ("team-b", 21))),
        ("class", (("gone", 51),)),
        ("phase", (("Pending", 51),)),
    )
    text = render(report, "table")
    lines = text.splitlines()
    assert "      FAIL  KFS-PVC-PENDING-CLASS-MISSING ×51 Claim Pending: class does not exist — namespace:" in lines
    assert "            team-a 30, team-b 21; class: gone 51; phase: Pending 51" in lines
    assert "… 48 more" in text
    # The group's fix follows its examples and says whose it is.
    more = next(i for i, line in enumerate(lines) if line.strip() == "… 48 more")
    assert lines[more + 1].strip().startswith("for PersistentVolumeClaim/")
    assert lines[more + 1].strip().endswith("(the others alike, each with its own names):")
    assert lines[more + 2].strip().startswith("fix")
    html = render(report, "html")
    assert "<strong>×51</strong>" in html and "namespace: team-a 30, team-b 21" in html


def test_a_root_cause_lists_at_most_max_rows_of_what_it_causes_in_html() -> None:
    """Thousands of claims Pending for want of a default class: the root cause's card names the first
    MAX_ROWS and counts the rest (the HTML stays quick to render and to open; JSON has them all)."""
    from kfstor.render.html import MAX_ROWS

    source = from_files([str(NO_DEFAULT)]).source
    objects = [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "slow"},
            "provisioner": "x.io/y",
        }
    ]
    claims = MAX_ROWS + 50
    for i in range(claims):
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": f"data-{i}", "namespace": "team"},
                "spec": {"accessModes": ["ReadWriteOnce"]},
                "status": {"phase": "Pending"},
            }
        )
    checks = [CHECKS["default_storage_class"], CHECKS["claim_health"]]
    report = runner.run(checks, build(objects, source))
    (root,) = grouping.group(report).roots
    assert (root.root.finding.code, len(root.caused)) == ("KFS-DEFAULT-NONE", claims)
    html = render(report, "html")
    card = html[html.index('id="root-causes"') : html.index('id="attention"')]
    assert card.count("<li>") == MAX_ROWS
    assert f"… {claims - MAX_ROWS} more, listed under their checks below (the JSON report has them all)" in card
    data = json.loads(render(report, "json"))
    assert len(data["root_causes"][0]["causes"]) == claims


def test_markdown_states_one_fix_once_for_the_objects_it_applies_to() -> None:
    report = runner.run(list(CHECKS.values()), from_files([str(CEPH)]))
    text = render(report, "markdown")
    claims = ("katib-mysql", "mysql-pv-claim", "seaweedfs-pvc")
    refs = ", ".join(f"`PersistentVolumeClaim/kubeflow/{n}`" for n in claims)
    read = "kubectl -n rook-ceph exec deploy/rook-ceph-tools -- ceph osd pool get replicapool size"
    assert text.count(read) == 1
    assert f"{refs}:\n\nFix: read pool replicapool's size; below 3, raise it (" in text
    assert f"CephFilesystem resource; otherwise ceph osd pool set replicapool size 3)\n\n```sh\n{read}\n```\n" in text
    # Commands differ per object (each names its volume): each keeps its own block.
    assert text.count("```sh\nkubectl patch pv pvc-") == 2


def test_an_override_or_skip_that_changes_nothing_is_noted(tmp_path: Path) -> None:
    """A misspelt object or a problem since fixed: the report says the line can go."""
    (tmp_path / "kfstor.yaml").write_text(
        "overrides:\n"
        "  - {code: KFS-DB-RECLAIM-DELETE, object: PersistentVolumeClaim/kubeflow/katib-mysq, status: off}\n"
        "  - {code: KFS-DB-RECLAIM-DELETE, object: PersistentVolumeClaim/kubeflow/katib-mysql, status: off}\n",
        encoding="utf-8",
    )
    stale = "KFS-DB-SHARED-FS:PersistentVolumeClaim/kubeflow/katib-mysql"  # the Ceph claims are on block storage
    result = kfstor("audit", "--from", CEPH, "-f", "json", "--skip", stale, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    notes = json.loads(result.stdout)["notes"]
    assert [n for n in notes if "changed no finding" in n] == [
        f"--skip {stale} changed no finding",
        f"{tmp_path / 'kfstor.yaml'}: overrides[0] (KFS-DB-RECLAIM-DELETE on "
        "PersistentVolumeClaim/kubeflow/katib-mysq: off) changed no finding",
    ]


def test_a_diff_of_a_hostile_report_keeps_codes_and_check_ids_in_their_place() -> None:
    """A JSON report is a file, so hostile: a code or check id that could end a code span, start
    HTML or break the line is escaped text in the Markdown diff, never markup."""
    from kfstor.engine import diff
    from kfstor.render import markdown

    def doc(findings: list[dict[str, str]]) -> dict[str, object]:
        return {"schema": diff.SCHEMA, "checks": [{"id": "x`<b>y\n", "status": "fail", "findings": findings}]}

    hostile = {"status": "fail", "code": "KFS-A`<img src=x>", "object": "StorageClass/gke_a_b", "message": "m"}
    plain = {"status": "fail", "code": "", "object": "StorageClass/s", "message": "n"}
    section = markdown.review_section(diff.between(doc([]), doc([hostile, plain]), "old.json"))
    lines = section.splitlines()
    assert "- fail KFS-A\\`&lt;img src=x&gt; `StorageClass/gke_a_b`: m" in lines
    assert "- fail x\\`&lt;b&gt;y `StorageClass/s`: n" in lines
    assert "<img" not in section and "<b>" not in section
