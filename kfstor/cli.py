"""Command line: thin glue between collection, the runner and the renderers.

Exit codes: 0 gate passed · 1 gate failed (a status at or above --fail-on, or any check error)
· 2 usage or input error · 3 cluster unreachable or authentication failed.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, NoReturn, TextIO

import typer

from kfstor import __version__
from kfstor.model import EXIT_CLUSTER, EXIT_USAGE, FailOn

if TYPE_CHECKING:
    from kfstor.collect.snapshot import Snapshot
    from kfstor.model import Check

EXIT_CODES_HELP = (
    "Exit codes: 0 gate passed; 1 gate failed (a check at or above --fail-on, or any check error; with "
    "--baseline, a new problem at or above --fail-on); "
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


class DiffFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


class ColorMode(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


ColorOpt = Annotated[
    ColorMode,
    typer.Option(
        "--color", help="Colour in the terminal: auto (a terminal; NO_COLOR and FORCE_COLOR honoured), always, never."
    ),
]


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
SkipOpt = Annotated[
    list[str],
    typer.Option(
        "--skip",
        help="Do not run this check id, or turn off a problem code (KFS-...) everywhere or on one object "
        "(KFS-CODE:Kind/namespace/name). Repeatable.",
    ),
]
ChecksDirOpt = Annotated[
    list[Path], typer.Option("--checks-dir", help="Also load check modules from this directory. Repeatable.")
]


def _load(checks_dirs: list[Path], only: list[str], skip: list[str]) -> tuple[list[Check], list[str]]:
    chosen, notes, _ = _load_all(checks_dirs, only, skip)
    return chosen, notes


def _load_all(checks_dirs: list[Path], only: list[str], skip: list[str]) -> tuple[list[Check], list[str], list[Check]]:
    """(the selected checks, notes on checks that failed to load, every loaded check)."""
    from kfstor.engine.loader import CheckLoadError, load_checks, select

    try:
        loaded = load_checks(checks_dirs)
        chosen = select(loaded.checks, only, skip)
    except CheckLoadError as exc:
        die(str(exc), EXIT_USAGE)
    notes = [f"check not loaded: {p.origin}: {p.message}" for p in loaded.problems]
    for note in notes:
        sys.stderr.write(f"kfstor: warning: {note}\n")
    return chosen, notes, list(loaded.checks)


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
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            help="An earlier JSON report: show what is new, resolved and unchanged, and fail only on new problems.",
        ),
    ] = None,
    color: ColorOpt = ColorMode.auto,
) -> None:
    """Audit the live cluster (or snapshot files) and report pass/warn/fail per check."""
    from dataclasses import replace

    from kfstor.collect.snapshot import InputError, from_files
    from kfstor.engine import config as config_mod
    from kfstor.engine import diff, runner
    from kfstor.render import renderer, terminal

    try:
        settings = config_mod.load(config)
    except config_mod.ConfigError as exc:
        die(str(exc), EXIT_USAGE)
    code_skips = [o for o in (config_mod.parse_code_target(s) for s in skip) if o is not None]
    skip = [s for s in skip if config_mod.parse_code_target(s) is None]
    checks, notes, loaded = _load_all(checks_dir, check, skip)
    known = {code.id for c in loaded for code in c.codes}
    for override in (*settings.overrides, *code_skips):
        if override.code not in known:
            die(f"{override.origin}: unknown problem code {override.code} (kfstor explain lists them)", EXIT_USAGE)
    settings = replace(settings, overrides=(*code_skips, *settings.overrides))
    old_report = None
    if baseline is not None:
        try:
            old_report = diff.load(baseline)
        except diff.DiffError as exc:
            die(str(exc), EXIT_USAGE)
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
    if old_report is not None and baseline is not None:
        report = replace(report, review=diff.against(report, old_report, str(baseline)))
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
    if fmt is OutputFormat.table:
        terminal.render(report, sys.stdout, color=color.value)
    else:
        renderer(fmt.value)(report, sys.stdout)
    sys.stdout.flush()
    raise typer.Exit(report.exit_status)


@app.command("diff", epilog="Exit codes: 0 no new problem at or above --fail-on; 1 new problems; 2 unreadable report.")
def diff_reports(
    old: Annotated[Path, typer.Argument(help="The earlier JSON report (kfstor audit --json).")],
    new: Annotated[Path, typer.Argument(help="The newer JSON report.")],
    fmt: Annotated[DiffFormat, typer.Option("--format", "-f", help="Format written to stdout.")] = DiffFormat.table,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Lowest status of a new problem that fails (exit 1).")
    ] = FailOn.FAIL,
    color: ColorOpt = ColorMode.auto,
) -> None:
    """Show which problems are new, resolved and unchanged between two JSON reports (by check, code, object)."""
    from kfstor.engine import diff
    from kfstor.render import markdown, terminal
    from kfstor.render.json_report import review_dict

    try:
        review = diff.between(diff.load(old), diff.load(new), str(old))
    except diff.DiffError as exc:
        die(str(exc), EXIT_USAGE)
    if fmt is DiffFormat.json:
        import json

        json.dump(review_dict(review), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    elif fmt is DiffFormat.markdown:
        sys.stdout.write(markdown.review_section(review))
    else:
        terminal.render_review(review, sys.stdout, color=color.value)
    sys.stdout.flush()
    raise typer.Exit(1 if review.new_at_or_above(fail_on) else 0)


@app.command()
def explain(
    code: Annotated[str | None, typer.Argument(help="A problem code such as KFS-DEFAULT-NONE.")] = None,
    checks_dir: ChecksDirOpt = [],  # noqa: B006
) -> None:
    """Explain a problem code: what it means, why it matters for Kubeflow, how to fix it, links."""
    checks, _ = _load(checks_dir, [], [])
    entries = [(c, entry) for c in checks for entry in c.codes]
    if code is None:
        width = max(len(entry.id) for _, entry in entries)
        for c, entry in sorted(entries, key=lambda ce: ce[1].id):
            typer.echo(f"{entry.id:<{width}}  {entry.title}  [{c.id}]")
        return
    wanted = code.strip().upper()
    found = next(((c, entry) for c, entry in entries if entry.id == wanted), None)
    if found is None:
        die(f"unknown problem code {code!r} (kfstor explain lists them)", EXIT_USAGE)
    c, entry = found
    typer.echo(f"{entry.id}: {entry.title} (check {c.id})\n")
    typer.echo(f"What it means: {entry.meaning}\n")
    typer.echo(f"Why it matters for Kubeflow: {entry.why}\n")
    typer.echo(f"How to fix it: {entry.fix}")
    if entry.links:
        typer.echo("\nLinks:")
        for link in entry.links:
            typer.echo(f"  {link}")


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
        if c.codes:
            typer.echo("Problem codes (kfstor explain CODE): " + ", ".join(code.id for code in c.codes))
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
    # Not `import click`: typer >= 0.24 vendors it, and a fresh install may have no click at all.
    click_exceptions: ModuleType = importlib.import_module("click.exceptions")
    return click_exceptions


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
    sys.exit(code if isinstance(code, int) else 0)
