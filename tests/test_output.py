"""Report files behave like any Unix tool's output (kfstor.render.output), through the real CLI.

Regular files get the umask's mode and are replaced atomically; a symlink is written through and
stays a link; FIFOs, character devices and /dev/stdout are written straight into; `-` is stdout for
every report option, at most once. Ctrl-C or SIGTERM while a report is being written leaves no
report and no temporary file. A reader that closes stdout or a FIFO early leaves the other reports
and the exit code as they would be; a write error names its path.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "portworx-kubeflow-1.10.yaml"
ENTRY = "from kfstor.cli import main; main()"
ARGS = ["audit", "--from", str(EXAMPLE), "--check", "default_storage_class"]


def kfstor(*args: str | Path, umask: int | None = None) -> subprocess.CompletedProcess[str]:
    def preexec() -> None:
        if umask is not None:
            os.umask(umask)

    return subprocess.run(
        [sys.executable, "-c", ENTRY, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        preexec_fn=preexec,
    )


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_new_report_files_get_the_umask_mode(tmp_path: Path, umask: int) -> None:
    target = tmp_path / "report.json"
    result = kfstor(*ARGS, "--json", target, umask=umask)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_an_existing_report_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    target.write_text("old\n")
    target.chmod(0o640)
    result = kfstor(*ARGS, "--markdown", target, umask=0o022)
    assert result.returncode == 0, result.stderr
    assert target.read_text().startswith("## kfstor: Storage readiness gate PASSED")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "reports" / "kfstor.html"
    real.parent.mkdir()
    real.write_text("old report\n")
    link = tmp_path / "link.html"
    link.symlink_to(real)
    dangling = tmp_path / "new.json"
    dangling.symlink_to(tmp_path / "reports" / "fresh.json")
    result = kfstor(*ARGS, "--html", link, "--json", dangling)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text().startswith("<!DOCTYPE html>")
    assert dangling.is_symlink()
    assert json.loads((tmp_path / "reports" / "fresh.json").read_text())["schema"] == "kfstor.report/v1"
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["fresh.json", "kfstor.html"]


def test_a_fifo_is_written_straight_into(tmp_path: Path) -> None:
    fifo = tmp_path / "report.xml"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = kfstor(*ARGS, "--junit", fifo)
    reader.join(timeout=30)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still the FIFO, not replaced by a file
    root = ET.fromstring(received[0])
    assert [s.get("name") for s in root.findall("testsuite")] == ["default_storage_class"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.xml"]


def test_character_devices_and_dev_stdout(tmp_path: Path) -> None:
    result = kfstor(*ARGS, "--html", "/dev/null", "--json", "/dev/stdout", "--format", "markdown")
    assert result.returncode == 0, result.stderr
    doc, _, rest = result.stdout.partition("\n}\n")
    assert json.loads(doc + "\n}")["schema"] == "kfstor.report/v1"  # the JSON report, then the --format output
    assert rest.startswith("## kfstor: Storage readiness gate PASSED")


@pytest.mark.parametrize("option", ["--html", "--json", "--junit", "--markdown"])
def test_dash_is_stdout_for_every_report_option(tmp_path: Path, option: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", ENTRY, *ARGS, option, "-"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []  # no file named "-"
    first = {
        "--html": "<!DOCTYPE html>",
        "--json": "{",
        "--junit": '<?xml version="1.0"',
        "--markdown": "## kfstor:",
    }[option]
    assert result.stdout.startswith(first)
    assert "Storage readiness gate PASSED (1 pass)" in result.stdout
    assert "\nStorage readiness gate PASSED (1 pass)\n" not in result.stdout  # the report replaces the table


def closed_stdout(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """kfstor with its stdout a real pipe whose reader has already closed it (`| head -c0`): every
    write to stdout meets EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-c", ENTRY, *map(str, args)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
    finally:
        os.close(write_end)


FULL = ["audit", "--from", str(EXAMPLE)]  # every check: a table longer than a pipe's buffer
FAILING = ["audit", "--from", str(REPO / "examples" / "no-default-pending.yaml")]


def assert_reports_complete(tmp_path: Path, verdict: str) -> None:
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["schema"] == "kfstor.report/v1"
    assert doc["summary"]["verdict"] == verdict
    html = (tmp_path / "r.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html", "r.json"]  # no temporary file left


@pytest.mark.parametrize("fmt", ["table", "json", "markdown"])
@pytest.mark.parametrize(("args", "code", "verdict"), [(FULL, 0, "passed"), (FAILING, 1, "failed")])
def test_a_closed_stdout_keeps_the_reports_and_the_gates_exit_code(
    tmp_path: Path, fmt: str, args: list[str], code: int, verdict: str
) -> None:
    result = closed_stdout(*args, "-f", fmt, "--html", tmp_path / "r.html", "--json", tmp_path / "r.json")
    assert (result.returncode, result.stderr) == (code, "")
    assert_reports_complete(tmp_path, verdict)


def test_a_reader_that_stops_after_one_line_is_like_head(tmp_path: Path) -> None:
    """`kfstor audit ... | head -n1`: the first line arrives, the reports are written, exit 0."""
    process = subprocess.Popen(
        [sys.executable, "-c", ENTRY, *FULL, "--html", tmp_path / "r.html", "--json", tmp_path / "r.json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "1000"},
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()
    assert process.wait(timeout=120) == 0
    assert process.stderr.read() == b""
    process.stderr.close()
    assert first.decode().startswith(f"kfstor 1.0.0 · {EXAMPLE} · Kubeflow namespace kubeflow")
    assert_reports_complete(tmp_path, "passed")


def test_a_closed_stdout_for_a_report_option(tmp_path: Path) -> None:
    result = closed_stdout(*FULL, "--markdown", "-", "--json", tmp_path / "r.json", "--html", tmp_path / "r.html")
    assert (result.returncode, result.stderr) == (0, "")
    assert_reports_complete(tmp_path, "passed")


@pytest.mark.parametrize("fmt", ["table", "json", "markdown"])
def test_a_closed_stdout_keeps_the_exit_code_of_diff(tmp_path: Path, fmt: str) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    assert kfstor(*FULL, "--json", old).returncode == 0
    assert kfstor(*FAILING, "--json", new).returncode == 1
    result = closed_stdout("diff", old, new, "-f", fmt)
    assert (result.returncode, result.stderr) == (1, "")  # new problems: exit 1, as with a reader
    assert kfstor("diff", old, new, "-f", fmt).returncode == 1
    same = closed_stdout("diff", old, old, "-f", fmt)
    assert (same.returncode, same.stderr) == (0, "")


def test_a_fifo_whose_reader_leaves_early(tmp_path: Path) -> None:
    fifo = tmp_path / "report.html"
    os.mkfifo(fifo)

    def leave() -> None:  # opens the FIFO (kfstor's open waits for it), leaves before the report is rendered
        fifo.open("rb").close()

    reader = threading.Thread(target=leave, daemon=True)
    reader.start()
    result = kfstor(*FULL, "--html", fifo, "--json", tmp_path / "r.json")
    reader.join(timeout=30)
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["verdict"] == "passed"


def test_a_full_device_names_the_path() -> None:
    result = kfstor(*FULL, "--json", "/dev/full")
    assert result.returncode == 2
    assert result.stderr == "kfstor: error: cannot write /dev/full: No space left on device\n"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--html", "-", "--json", "-"], "--html - and --json - all write to stdout: at most one may use -"),
        (["--json", "-", "--format", "table"], "--json - and --format both write to stdout: drop one of them"),
    ],
)
def test_stdout_is_used_at_most_once(extra: list[str], message: str) -> None:
    result = kfstor(*ARGS, *extra)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"kfstor: error: {message}\n"


def test_a_directory_is_not_a_report_file(tmp_path: Path) -> None:
    result = kfstor(*ARGS, "--json", tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"kfstor: error: cannot write {tmp_path}: is a directory\n"


@pytest.mark.parametrize(
    ("sig", "code", "word"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")]
)
def test_a_signal_while_reports_are_written_leaves_no_report(
    tmp_path: Path, sig: signal.Signals, code: int, word: str
) -> None:
    # The HTML report is rendered into its temporary file first; kfstor then blocks opening the FIFO
    # (no reader): the signal arrives while the reports are being written.
    fifo = tmp_path / "report.xml"
    os.mkfifo(fifo)
    html = tmp_path / "report.html"
    process = subprocess.Popen(
        [sys.executable, "-c", ENTRY, *ARGS, "--html", html, "--junit", fifo],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(p.name.startswith(".report.html.") for p in tmp_path.iterdir()):
        time.sleep(0.05)
    assert any(p.name.startswith(".report.html.") for p in tmp_path.iterdir()), "kfstor never got to the reports"
    time.sleep(0.2)
    process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == code
    assert stderr == f"kfstor: {word}\n"
    assert stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.xml"]  # the FIFO; no report, no temp file
