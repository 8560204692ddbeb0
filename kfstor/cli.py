"""Command line: thin glue between collection, the runner and the renderers.

Exit codes: 0 gate passed · 1 gate failed (a status at or above --fail-on, or any check error)
· 2 usage or input error · 3 cluster unreachable or authentication failed · 4 incomplete (a check
could not be evaluated: a kind it needs was forbidden or unreadable; --allow-partial accepts it)
· 130 interrupted (Ctrl-C) · 143 terminated (SIGTERM).
"""

from __future__ import annotations

import contextlib
import importlib
import signal
import sys
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from kfstor import __version__
from kfstor.model import EXIT_CLUSTER, EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_USAGE, FailOn
from kfstor.render.sanitize import terminal as _clean

if TYPE_CHECKING:
    from kfstor.collect.manifests import Manifests
    from kfstor.collect.snapshot import Snapshot
    from kfstor.engine.config import Config
    from kfstor.model import Check

EXIT_CODES_HELP = (
    "Exit codes: 0 gate passed; 1 gate failed (a check at or above --fail-on, or any check error); "
    "2 usage or input error (bad flag, unreadable or malformed file, config or kubeconfig); "
    "3 cluster unreachable or authentication failed; "
    "4 incomplete: a check could not be evaluated (a kind it needs was forbidden or unreadable), "
    "unless --allow-partial; 130 interrupted; 143 terminated."
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
    # Messages quote file contents and server answers: no control character reaches the terminal.
    sys.stderr.write(f"kfstor: error: {_clean(message)}\n")
    raise typer.Exit(code)


def warn(message: str) -> None:
    sys.stderr.write(f"kfstor: warning: {_clean(message)}\n")


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM. Not a KeyboardInterrupt, which Click would catch and print around: this
    unwinds every context manager (temporary report files are removed, plugins ended) up to main()."""

    def __init__(self, code: int, word: str) -> None:
        super().__init__(word)
        self.code = code
        self.word = word


def _on_signal(signum: int, _frame: object) -> None:
    if signum == signal.SIGTERM:
        raise Interrupted(EXIT_TERMINATED, "terminated")
    raise Interrupted(EXIT_INTERRUPTED, "interrupted")


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
# --manifests: the install to plan before it is applied.
ManifestsOpt = Annotated[
    list[str],
    typer.Option(
        "--manifests",
        help="Plan every claim an install will create from the manifests you will apply: rendered "
        "kustomize output (a file, a directory of them, or - for stdin) or a kustomization directory "
        "(rendered with kubectl kustomize or kustomize). Repeatable; combines with --from or the live cluster.",
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


def _load(
    checks_dirs: list[Path], only: list[str], skip: list[str], settings: Config | None = None
) -> tuple[list[Check], list[str]]:
    """The selected checks and the load problems (as report notes); with `settings`, also checks
    kfstor.yaml against every loaded check (ids, option names and types)."""
    from kfstor.engine.config import ConfigError, validate
    from kfstor.engine.loader import CheckLoadError, load_checks, select

    try:
        loaded = load_checks(checks_dirs)
        if settings is not None:
            validate(settings, loaded.checks)
        chosen = select(loaded.checks, only, skip)
    except CheckLoadError as exc:
        die(str(exc), EXIT_USAGE)
    except ConfigError as exc:
        die(str(exc), EXIT_USAGE)
    notes = [f"check not loaded: {p.origin}: {p.message}" for p in loaded.problems]
    for note in notes:
        warn(note)
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
            snap = collect(kinds, Target(kubeconfig, context, timeout), progress=progress, warn=warn)
    except KubeconfigError as exc:
        die(str(exc), EXIT_USAGE)
    except ClusterError as exc:
        die(str(exc), EXIT_CLUSTER)
    return snap


def _read_manifests(paths: list[str]) -> Manifests:
    from kfstor.collect.manifests import read_manifests
    from kfstor.collect.snapshot import InputError

    if paths.count("-") > 1:
        die("--manifests - (stdin) can be given once", EXIT_USAGE)
    try:
        return read_manifests(paths)
    except InputError as exc:
        die(str(exc), EXIT_USAGE)


@app.command(epilog=EXIT_CODES_HELP)
def audit(
    from_: FromOpt = [],  # noqa: B006 - typer reads the default, never mutates it
    manifests: ManifestsOpt = [],  # noqa: B006
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
    fmt: Annotated[
        OutputFormat | None, typer.Option("--format", "-f", help="Format written to stdout (default: table).")
    ] = None,
    html: Annotated[
        str | None, typer.Option("--html", metavar="FILE", help="Also write an HTML report to FILE (- for stdout).")
    ] = None,
    json_file: Annotated[
        str | None, typer.Option("--json", metavar="FILE", help="Also write a JSON report to FILE (- for stdout).")
    ] = None,
    junit: Annotated[
        str | None, typer.Option("--junit", metavar="FILE", help="Also write JUnit XML to FILE (- for stdout).")
    ] = None,
    markdown: Annotated[
        str | None, typer.Option("--markdown", metavar="FILE", help="Also write Markdown to FILE (- for stdout).")
    ] = None,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Lowest status that fails the gate (exit 1).")
    ] = FailOn.FAIL,
    allow_partial: Annotated[
        bool,
        typer.Option(
            "--allow-partial",
            help="Do not fail the gate (exit 4) for checks that could not be evaluated "
            "(a kind they need was forbidden or unreadable); they are still reported.",
        ),
    ] = False,
) -> None:
    """Audit the live cluster (or snapshot files) and report pass/warn/fail per check."""
    from kfstor.collect.snapshot import InputError, from_files
    from kfstor.engine import config as config_mod
    from kfstor.engine import runner
    from kfstor.render import renderer
    from kfstor.render.output import OutputError, check_stdout_use, outputs

    named = [
        (option, path)
        for option, path in (("--html", html), ("--json", json_file), ("--junit", junit), ("--markdown", markdown))
        if path is not None
    ]
    try:
        to_stdout = check_stdout_use(named, format_given=fmt is not None)
    except OutputError as exc:
        die(str(exc), EXIT_USAGE)
    try:
        settings = config_mod.load(config)
    except config_mod.ConfigError as exc:
        die(str(exc), EXIT_USAGE)
    checks, notes = _load(checks_dir, check, skip, settings)
    if "-" in manifests and "-" in from_:
        die("stdin (-) can feed --from or --manifests, not both", EXIT_USAGE)
    planned = _read_manifests(manifests) if manifests else None
    if from_:
        try:
            snap = from_files(from_)
        except InputError as exc:
            die(str(exc), EXIT_USAGE)
    else:
        snap = _collect(sorted({k for c in checks for k in c.all_kinds}), kubeconfig, context, request_timeout)
    try:
        report = runner.run(
            checks,
            snap,
            config=settings,
            namespace=namespace,
            notes=notes,
            fail_on=fail_on,
            allow_partial=allow_partial,
            manifests=planned,
        )
    except config_mod.ConfigError as exc:
        die(str(exc), EXIT_USAGE)
    formats = {"--html": "html", "--json": "json", "--junit": "junit", "--markdown": "markdown"}
    # A report sent to stdout with - takes the place of the --format output.
    written = named if to_stdout else [*named, ("--format", "-")]
    try:
        with outputs([path for _, path in written]) as handles:
            for (option, _), handle in zip(written, handles, strict=True):
                name = formats.get(option) or (fmt.value if fmt else "table")
                renderer(name)(report, handle)
    except OutputError as exc:
        die(str(exc), EXIT_USAGE)
    sys.stdout.flush()
    raise typer.Exit(report.exit_status)


@app.command()
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
    from kfstor.render.output import OutputError
    from kfstor.render.output import output as open_output

    out_format = fmt.value if fmt else ("json" if output.lower().endswith(".json") else "yaml")
    checks, _ = _load(checks_dir, [], [])
    snap = _collect(sorted({k for c in checks for k in c.all_kinds}), kubeconfig, context, request_timeout)
    server = snap.source.description
    try:
        with open_output(output) as handle:
            write(snap, handle, out_format, server=server)
    except OutputError as exc:
        die(str(exc), EXIT_USAGE)
    if output != "-":
        sys.stderr.write(f"kfstor: wrote {snap.count()} objects to {_clean(output)}\n")


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
def drivers(
    name: Annotated[str | None, typer.Argument(help="A provisioner name (or family): show its row.")] = None,
) -> None:
    """Print kfstor's provisioner table: what each driver serves, RWX, replication, and the sources."""
    from kfstor.facts.drivers import PROFILES, find_profile
    from kfstor.render import drivers as drivers_text

    if name is None:
        typer.echo(drivers_text.table(PROFILES), nl=False)
        return
    profile = find_profile(name) or next((p for p in PROFILES if p.family == name), None)
    if profile is None:
        die(f"no driver {name!r} in kfstor's table: its capabilities are reported as cannot verify", EXIT_USAGE)
    typer.echo(drivers_text.detail(profile), nl=False)


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

    # By name: type-checks the same whether or not Click itself is installed beside typer.
    return importlib.import_module("click.exceptions")


def _quiet_library_logging() -> None:
    """The kubernetes client logs with logging.error() on the root logger, which would print
    "ERROR:root:..." lines; kfstor reports every problem itself, in one line."""
    import logging

    logging.getLogger().addHandler(logging.NullHandler())
    logging.captureWarnings(True)


def main() -> None:
    # Usage errors (bad flag or value) are one line like every other kfstor error, exit code 2;
    # everything else kfstor raises is mapped above. Ctrl-C ends with 130, SIGTERM with 143, after
    # the context managers on the way up removed temporary files and ended credential plugins.
    exceptions = _click_exceptions()
    no_args_help = getattr(exceptions, "NoArgsIsHelpError", None)
    _quiet_library_logging()
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        code = app(prog_name="kfstor", standalone_mode=False)
    except Interrupted as exc:
        _interrupted(exc.code, exc.word)
    except (KeyboardInterrupt, typer.Abort):
        _interrupted(EXIT_INTERRUPTED, "interrupted")
    except exceptions.ClickException as exc:
        if no_args_help is not None and isinstance(exc, no_args_help):
            exc.show()  # bare `kfstor`: the help text, as Click prints it
            sys.exit(exc.exit_code)
        message = " ".join(exc.format_message().split()) + _choice_hint(exc)
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if isinstance(exc, exceptions.UsageError) and ctx else ""
        sys.stderr.write(f"kfstor: error: {_clean(message)}{hint}\n")
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


def _choice_hint(exc: BaseException) -> str:
    """ " (did you mean json?)" for a misspelt --format or --fail-on value."""
    import re

    from kfstor.engine.loader import did_you_mean

    choices = getattr(getattr(getattr(exc, "param", None), "type", None), "choices", None)
    given = re.search(r"'([^']*)' is not one of", str(getattr(exc, "message", "")))
    if not choices or given is None:
        return ""
    return did_you_mean(given.group(1), [str(getattr(c, "value", c)) for c in choices])


def _interrupted(code: int, word: str) -> NoReturn:
    # Further signals while exiting must not print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"kfstor: {word}\n")
        sys.stderr.flush()
    sys.exit(code)
