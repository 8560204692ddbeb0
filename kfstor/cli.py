"""Command line: thin glue between collection, the runner and the renderers.

Exit codes: 0 gate passed · 1 gate failed (a status at or above --fail-on, or any check error)
· 2 usage or input error · 3 cluster unreachable or authentication failed.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, NoReturn, ParamSpec, TextIO

import typer

from kfstor import __version__
from kfstor.model import EXIT_CLUSTER, EXIT_USAGE, FailOn

P = ParamSpec("P")

if TYPE_CHECKING:
    from kfstor.collect.snapshot import Snapshot
    from kfstor.model import Check

EXIT_CODES_HELP = (
    "Exit codes: 0 gate passed; 1 gate failed (a check at or above --fail-on, or any check error); "
    "2 usage or input error (bad flag, unreadable or malformed file or config); "
    "3 cluster unreachable or authentication failed."
)

app = typer.Typer(
    name="kfstor",
    help="Audit a Kubernetes cluster's storage for Kubeflow: default class, provisioners, Kubeflow's "
    "claims, replication, RWX, snapshots, capacity.\n\n" + EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    junit = "junit"
    html = "html"
    markdown = "markdown"


class SnapshotFormat(str, Enum):
    yaml = "yaml"
    json = "json"


def die(message: str, code: int) -> NoReturn:
    sys.stderr.write(f"kfstor: error: {message}\n")
    raise typer.Exit(code)


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[TextIO]:
    """Write beside the target and rename at the end: a failed run never leaves a partial report."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _gc_paused_while(command: Callable[P, None]) -> Callable[P, None]:
    """Run a command without CPython's cyclic garbage collector, restored after (tests run commands
    in-process). An audit allocates millions of long-lived objects and makes no garbage cycles worth
    collecting; the collector would rescan them over and over, which costs about half of
    json.loads' time on a 10,000-claim snapshot."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        enabled = gc.isenabled()
        gc.disable()
        try:
            command(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return run


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kfstor {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """kfstor: storage readiness auditor for Kubeflow."""


FromOpt = Annotated[
    list[str],
    typer.Option(
        "--from",
        help="Audit a snapshot instead of the live cluster: a "
        "YAML/JSON file (kubectl get -o yaml|json output, or kfstor "
        "snapshot), a directory of them, or - for stdin. Repeatable.",
    ),
]
KubeconfigOpt = Annotated[
    str | None,
    typer.Option("--kubeconfig", help="Kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then in-cluster)."),
]
ContextOpt = Annotated[str | None, typer.Option("--context", help="Kubeconfig context to use.")]
TimeoutOpt = Annotated[float, typer.Option("--request-timeout", min=0.1, help="Seconds to wait for each API request.")]
CheckOpt = Annotated[list[str], typer.Option("--check", help="Run only this check id. Repeatable.")]
SkipOpt = Annotated[list[str], typer.Option("--skip", help="Do not run this check id. Repeatable.")]
ChecksDirOpt = Annotated[
    list[Path], typer.Option("--checks-dir", help="Also load check modules from this directory. Repeatable.")
]


def _load(checks_dirs: list[Path], only: list[str], skip: list[str]) -> tuple[list[Check], list[str]]:
    from kfstor.engine.loader import CheckLoadError, load_checks, select

    try:
        loaded = load_checks(checks_dirs)
        chosen = select(loaded.checks, only, skip)
    except CheckLoadError as exc:
        die(str(exc), EXIT_USAGE)
    notes = [f"check not loaded: {p.origin}: {p.message}" for p in loaded.problems]
    for note in notes:
        sys.stderr.write(f"kfstor: warning: {note}\n")
    return chosen, notes


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[str], None]]:
    """A spinner on stderr while the cluster is read (only on a terminal)."""
    if not sys.stderr.isatty():
        yield lambda _message: None
        return
    from rich.console import Console

    console = Console(file=sys.stderr)
    with console.status("reading the cluster…") as status:
        yield lambda message: status.update(f"reading the cluster: {message}")


def _collect(kinds: list[str], kubeconfig: str | None, context: str | None, timeout: float) -> Snapshot:
    from kfstor.collect.cluster import ClusterError, KubeconfigError, Target, collect

    try:
        with _progress() as progress:
            return collect(kinds, Target(kubeconfig, context, timeout), progress=progress)
    except KubeconfigError as exc:
        die(str(exc), EXIT_USAGE)
    except ClusterError as exc:
        die(str(exc), EXIT_CLUSTER)


@app.command(epilog=EXIT_CODES_HELP)
@_gc_paused_while
def audit(
    from_: FromOpt = [],  # noqa: B006 - typer reads the default, never mutates it
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
    request_timeout: TimeoutOpt = 30.0,
    namespace: Annotated[
        str | None,
        typer.Option("--namespace", "-n", help="Kubeflow's namespace (default: from kfstor.yaml, else kubeflow)."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="Config file (default: ./kfstor.yaml when present).")
    ] = None,
    check: CheckOpt = [],  # noqa: B006
    skip: SkipOpt = [],  # noqa: B006
    checks_dir: ChecksDirOpt = [],  # noqa: B006
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Format written to stdout.")] = (
        OutputFormat.table
    ),
    html: Annotated[Path | None, typer.Option("--html", help="Also write an HTML report to FILE.")] = None,
    json_file: Annotated[Path | None, typer.Option("--json", help="Also write a JSON report to FILE.")] = None,
    junit: Annotated[Path | None, typer.Option("--junit", help="Also write JUnit XML to FILE.")] = None,
    markdown: Annotated[Path | None, typer.Option("--markdown", help="Also write Markdown to FILE.")] = None,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Lowest status that fails the gate (exit 1).")
    ] = FailOn.FAIL,
) -> None:
    """Audit the live cluster (or snapshot files) and report pass/warn/fail per check."""
    from kfstor.collect.snapshot import InputError, from_files
    from kfstor.engine import config as config_mod
    from kfstor.engine import runner
    from kfstor.render import renderer

    try:
        settings = config_mod.load(config)
    except config_mod.ConfigError as exc:
        die(str(exc), EXIT_USAGE)
    checks, notes = _load(checks_dir, check, skip)
    if from_:
        try:
            snap = from_files(from_)
        except InputError as exc:
            die(str(exc), EXIT_USAGE)
    else:
        snap = _collect(sorted({k for c in checks for k in c.all_kinds}), kubeconfig, context, request_timeout)
    try:
        report = runner.run(checks, snap, config=settings, namespace=namespace, notes=notes, fail_on=fail_on)
    except config_mod.ConfigError as exc:
        die(str(exc), EXIT_USAGE)
    outputs = [
        (path, name)
        for path, name in ((html, "html"), (json_file, "json"), (junit, "junit"), (markdown, "markdown"))
        if path is not None
    ]
    for path, name in outputs:
        try:
            with atomic_output(path) as handle:
                renderer(name)(report, handle)
        except OSError as exc:
            die(f"cannot write {path}: {exc.strerror or exc}", EXIT_USAGE)
    renderer(fmt.value)(report, sys.stdout)
    sys.stdout.flush()
    raise typer.Exit(report.exit_status)


@app.command()
@_gc_paused_while
def snapshot(
    output: Annotated[str, typer.Option("--output", "-o", help="File to write, or - for stdout.")],
    fmt: Annotated[
        SnapshotFormat | None,
        typer.Option("--format", help="yaml or json (default: json for a FILE ending in .json, else yaml)."),
    ] = None,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
    request_timeout: TimeoutOpt = 30.0,
    checks_dir: ChecksDirOpt = [],  # noqa: B006
) -> None:
    """Save the live cluster's objects that the checks need, for `kfstor audit --from FILE` later.

    The file is a kubectl-style List; it records when it was taken, the context and server version,
    and which kinds were read or forbidden, so auditing it gives the same report as the live audit.
    """
    from kfstor.collect.snapshot import write

    out_format = fmt.value if fmt else ("json" if output.lower().endswith(".json") else "yaml")
    checks, _ = _load(checks_dir, [], [])
    snap = _collect(sorted({k for c in checks for k in c.all_kinds}), kubeconfig, context, request_timeout)
    server = snap.source.description
    if output == "-":
        write(snap, sys.stdout, out_format, server=server)
        return
    try:
        with atomic_output(Path(output)) as handle:
            write(snap, handle, out_format, server=server)
    except OSError as exc:
        die(f"cannot write {output}: {exc.strerror or exc}", EXIT_USAGE)
    sys.stderr.write(f"kfstor: wrote {snap.count()} objects to {output}\n")


@app.command("checks")
def list_checks(
    check_id: Annotated[str | None, typer.Argument(help="Show this check's documentation.")] = None,
    checks_dir: ChecksDirOpt = [],  # noqa: B006
) -> None:
    """List the checks (id, title, kinds), or print one check's documentation."""
    checks, _ = _load(checks_dir, [check_id] if check_id else [], [])
    if check_id:
        c = checks[0]
        typer.echo(f"{c.id}: {c.title}\n")
        typer.echo(c.description.strip() + "\n")
        typer.echo(
            f"Reads: {', '.join(c.kinds)}"
            + (f" (and, when readable, {', '.join(c.optional_kinds)})" if c.optional_kinds else "")
        )
        if c.options:
            typer.echo(
                "Options (kfstor.yaml checks."
                + c.id
                + ".options): "
                + ", ".join(f"{k} (default {v!r})" for k, v in sorted(c.options.items()))
            )
        typer.echo(f"Remediation: {c.remediation}")
        typer.echo(f"Source: {c.origin}")
        return
    width = max(len(c.id) for c in checks)
    for c in checks:
        typer.echo(f"{c.id:<{width}}  {c.title}  [{', '.join(c.all_kinds)}]")


@app.command()
def rbac(
    name: Annotated[str, typer.Option("--name", help="Name of the ClusterRole.")] = "kfstor-auditor",
    checks_dir: ChecksDirOpt = [],  # noqa: B006
) -> None:
    """Print the minimal read-only ClusterRole for what the checks read, and a binding example."""
    from kfstor.collect.rbac import cluster_role_yaml

    checks, _ = _load(checks_dir, [], [])
    typer.echo(cluster_role_yaml(sorted({k for c in checks for k in c.all_kinds}), name), nl=False)


def _click_exceptions() -> ModuleType:
    """The exception module Typer raises from: its vendored Click (typer >= 0.24) or Click."""
    import typer.core

    vendored = getattr(typer.core, "_click", None)
    if vendored is not None:
        module: ModuleType = vendored.exceptions
        return module
    import click

    return click.exceptions


def main() -> None:
    # Usage errors (bad flag or value) are one line like every other kfstor error, exit code 2;
    # everything else kfstor raises is mapped above. A KeyboardInterrupt ends with 130.
    exceptions = _click_exceptions()
    no_args_help = getattr(exceptions, "NoArgsIsHelpError", None)
    try:
        code = app(prog_name="kfstor", standalone_mode=False)
    except (KeyboardInterrupt, typer.Abort):
        sys.stderr.write("kfstor: interrupted\n")
        sys.exit(130)
    except exceptions.ClickException as exc:
        if no_args_help is not None and isinstance(exc, no_args_help):
            exc.show()  # bare `kfstor`: the help text, as Click prints it
            sys.exit(exc.exit_code)
        message = " ".join(exc.format_message().split())
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if isinstance(exc, exceptions.UsageError) and ctx else ""
        sys.stderr.write(f"kfstor: error: {message}{hint}\n")
        sys.exit(exc.exit_code)
    # Leave without freeing the heap object by object: an audit of a large cluster holds millions
    # of objects and tearing them down costs a tenth of a second for nothing. Output is flushed
    # first; kfstor registers no exit handlers (reports are already renamed into place).
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code if isinstance(code, int) else 0)
