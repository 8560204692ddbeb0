"""Command line: thin glue between collection, the runner and the renderers.

Exit codes: 0 gate passed · 1 gate failed (a status at or above --fail-on, or any check error)
· 2 usage or input error · 3 cluster unreachable or authentication failed · 4 incomplete (a check
could not be evaluated: a kind it needs was forbidden or unreadable; --allow-partial accepts it)
· 130 interrupted (Ctrl-C) · 143 terminated (SIGTERM).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib
import os
import shutil
import signal
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, NoReturn, ParamSpec, TextIO

import typer

from kfstor import __version__
from kfstor.model import EXIT_CLUSTER, EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_USAGE, FailOn
from kfstor.render.sanitize import terminal as _clean

P = ParamSpec("P")

if TYPE_CHECKING:
    from kfstor.collect.manifests import Manifests
    from kfstor.collect.snapshot import Snapshot
    from kfstor.engine.config import Config
    from kfstor.model import Check
    from kfstor.render.report import Report

EXIT_CODES_HELP = (
    "Exit codes: 0 gate passed; 1 gate failed (a check at or above --fail-on, or any check error; with "
    "--baseline, a new problem at or above --fail-on); "
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
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish, PowerShell
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# The name kfstor was invoked by: `kubectl kfstor` when kubectl runs it as the plugin executable
# kubectl-kfstor, else `kfstor`. Help, usage hints and error lines use it (see main()).
PROG = "kfstor"


def prog_name(argv0: str) -> str:
    base = os.path.basename(argv0)
    return "kubectl kfstor" if base.startswith("kubectl-kfstor") else "kfstor"


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    junit = "junit"
    html = "html"
    markdown = "markdown"
    prometheus = "prometheus"


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
    # Messages quote file contents and server answers: no control character reaches the terminal.
    sys.stderr.write(f"{PROG}: error: {_clean(message)}\n")
    raise typer.Exit(code)


def warn(message: str) -> None:
    sys.stderr.write(f"{PROG}: warning: {_clean(message)}\n")


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
                # Everything allocated meanwhile is still in the youngest generation: the first
                # collection after enable() would walk all of it (0.16 s at 10,000 claims). Moving
                # it to the oldest generation first costs nothing (freeze and unfreeze splice lists).
                gc.freeze()
                gc.unfreeze()
                gc.enable()

    return run


# The last command's result, kept alive until main() leaves with os._exit: when the command's
# frame unwinds, its snapshot (millions of objects at 10,000 claims) would otherwise be freed object
# by object, 0.08 s for nothing. One at a time, so commands run in-process (tests) hold no more.
_KEPT: list[object] = []


def _keep_until_exit(value: object) -> None:
    _KEPT[:] = [value]


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
ContextOpt = Annotated[
    list[str],
    typer.Option(
        "--context",
        help="Kubeconfig context to use. Repeat it to audit several clusters in one run (one combined result).",
    ),
]
AllContextsOpt = Annotated[
    bool, typer.Option("--all-contexts", help="Audit every context of the kubeconfig, concurrently.")
]
ParallelOpt = Annotated[
    int, typer.Option("--parallel", min=1, max=64, help="With several contexts: clusters audited at once.")
]
ClusterTimeoutOpt = Annotated[
    float,
    typer.Option(
        "--cluster-timeout",
        min=1.0,
        help="With several contexts: seconds each cluster may take before it is reported unreachable (exit 3).",
    ),
]
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


def _load(
    checks_dirs: list[Path], only: list[str], skip: list[str], settings: Config | None = None
) -> tuple[list[Check], list[str]]:
    """The selected checks and the load problems (as report notes); with `settings`, also checks
    kfstor.yaml against every loaded check (ids, option names and types)."""
    chosen, notes, _ = _load_all(checks_dirs, only, skip, settings)
    return chosen, notes


def _load_all(
    checks_dirs: list[Path], only: list[str], skip: list[str], settings: Config | None = None
) -> tuple[list[Check], list[str], list[Check]]:
    """(the selected checks, notes on checks that failed to load, every loaded check)."""
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


def _collect(
    kinds: list[str],
    kubeconfig: str | None,
    context: str | None,
    timeout: float,
    meanwhile: Callable[[], None] | None = None,
) -> Snapshot:
    from kfstor.collect.cluster import ClusterError, KubeconfigError, Target, collect

    try:
        with _progress() as progress:
            target = Target(kubeconfig, context, timeout)
            snap = collect(kinds, target, progress=progress, warn=warn, meanwhile=meanwhile)
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
@_gc_paused_while
def audit(
    from_: FromOpt = [],  # noqa: B006 - typer reads the default, never mutates it
    manifests: ManifestsOpt = [],  # noqa: B006
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = [],  # noqa: B006
    all_contexts: AllContextsOpt = False,
    parallel: ParallelOpt = 10,
    cluster_timeout: ClusterTimeoutOpt = 300.0,
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
        OutputFormat | None,
        typer.Option("--format", "-f", "-o", help="Format written to stdout (default: table)."),
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
    prometheus: Annotated[
        str | None,
        typer.Option(
            "--prometheus",
            metavar="FILE",
            help="Also write Prometheus text metrics to FILE (textfile collector, Pushgateway; - for stdout).",
        ),
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
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            help="An earlier JSON report: show what is new, resolved and unchanged, and fail only on new problems.",
        ),
    ] = None,
    color: ColorOpt = ColorMode.auto,
) -> None:
    """Audit the live cluster (or snapshot files) and report pass/warn/fail per check.

    Several --context (or --all-contexts) audit those clusters concurrently: one combined report,
    exit code the worst of the clusters.
    """
    started = time.monotonic()
    from dataclasses import replace

    from kfstor.collect.snapshot import InputError, from_files
    from kfstor.engine import config as config_mod
    from kfstor.engine import diff, runner
    from kfstor.render.output import OutputError, check_stdout_use, outputs

    named = [
        (option, path)
        for option, path in (
            ("--html", html),
            ("--json", json_file),
            ("--junit", junit),
            ("--markdown", markdown),
            ("--prometheus", prometheus),
        )
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
    try:
        code_skips = [o for o in (config_mod.parse_code_target(s) for s in skip) if o is not None]
    except config_mod.ConfigError as exc:
        die(str(exc), EXIT_USAGE)
    skip = [s for s in skip if config_mod.parse_code_target(s) is None]
    if from_.count("-") > 1:
        die("--from - reads stdin, which can be read once: give - at most once", EXIT_USAGE)
    if namespace is not None and not namespace.strip():
        die("--namespace must name a namespace (leave it out for kfstor.yaml's, else kubeflow)", EXIT_USAGE)
    checks, notes, loaded = _load_all(checks_dir, check, skip, settings)
    known = {code.id for c in loaded for code in c.codes}
    for override in code_skips:  # kfstor.yaml's codes were validated with the file
        if override.code not in known:
            hint = config_mod.did_you_mean_code(override.code, sorted(known))
            message = f"{override.origin}: unknown problem code {override.code}{hint} (kfstor explain lists them)"
            die(message, EXIT_USAGE)
    settings = replace(settings, overrides=(*code_skips, *settings.overrides))
    if "-" in manifests and "-" in from_:
        die("stdin (-) can feed --from or --manifests, not both", EXIT_USAGE)
    # --- fleet: several contexts go to kfstor.engine.fleet; one --context is audited as before ---
    contexts = list(dict.fromkeys(context))
    if all_contexts or len(contexts) > 1:
        if from_:
            die("--from audits files: it cannot be combined with several --context or --all-contexts", EXIT_USAGE)
        if baseline is not None:
            die("--baseline compares one cluster's reports: it cannot be combined with several contexts", EXIT_USAGE)
        reports = tuple((Path(path), option.lstrip("-")) for option, path in named)
        fleet_options = (parallel, cluster_timeout, request_timeout, settings, namespace, notes, fail_on)
        _audit_fleet(checks, kubeconfig, contexts, all_contexts, fleet_options, reports, fmt or OutputFormat.table)
    # --- end fleet ---
    old_report = None
    if baseline is not None:
        try:
            old_report = diff.load(baseline)
        except diff.DiffError as exc:
            die(str(exc), EXIT_USAGE)
    planned = _read_manifests(manifests) if manifests else None
    formats = {
        "--html": "html",
        "--json": "json",
        "--junit": "junit",
        "--markdown": "markdown",
        "--prometheus": "prometheus",
    }
    # A report sent to stdout with - takes the place of the --format output.
    written = named if to_stdout else [*named, ("--format", "-")]
    renderers = [formats.get(option) or (fmt.value if fmt else "table") for option, _ in written]
    if from_:
        try:
            snap = from_files(from_)
        except InputError as exc:
            die(str(exc), EXIT_USAGE)
    else:
        snap = _collect(
            sorted({k for c in checks for k in c.all_kinds}),
            kubeconfig,
            contexts[0] if contexts else None,
            request_timeout,
            # While the lists are on the way: the renderers' modules (rich, Jinja2) load.
            meanwhile=lambda: _import_renderers(renderers),
        )
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
    if old_report is not None and baseline is not None:
        report = replace(report, review=diff.against(report, old_report, str(baseline)))
    try:
        with outputs([path for _, path in written]) as handles:
            for name, handle in zip(renderers, handles, strict=True):
                _render(name, report, handle, started, color)
    except OutputError as exc:
        die(str(exc), EXIT_USAGE)
    sys.stdout.flush()
    _keep_until_exit(report)
    raise typer.Exit(report.exit_status)


def _import_renderers(names: list[str]) -> None:
    from kfstor.render import FORMATS

    for name in dict.fromkeys(names):
        importlib.import_module(FORMATS[name])


def _render(name: str, report: Report, out: TextIO, started: float, color: ColorMode) -> None:
    """One format of a single-cluster report; Prometheus also gets the audit's duration, the
    terminal table the --color choice."""
    from kfstor.render import renderer, terminal

    if name == "table":
        terminal.render(report, out, color=color.value)
        return

    if name == "prometheus":
        from kfstor.render import prometheus

        prometheus.render_run(report, out, time.monotonic() - started)
        return
    renderer(name)(report, out)


def _audit_fleet(
    checks: list[Check],
    kubeconfig: str | None,
    contexts: list[str],
    all_contexts: bool,
    options: tuple[int, float, float, Config, str | None, list[str], FailOn],
    reports: tuple[tuple[Path | None, str], ...],
    fmt: OutputFormat,
) -> NoReturn:
    """Several clusters: audit them with kfstor.engine.fleet, write every format, exit with the worst."""
    from kfstor.collect.cluster import KubeconfigError
    from kfstor.collect.contexts import list_contexts, select
    from kfstor.engine import fleet
    from kfstor.render.fleet import render as render_fleet

    parallel, cluster_timeout, request_timeout, settings, namespace, notes, fail_on = options
    try:
        members = select(list_contexts(kubeconfig), contexts, all_contexts)
    except KubeconfigError as exc:
        die(str(exc), EXIT_USAGE)
    with _progress() as progress:
        outcome = fleet.audit(
            members,
            checks,
            kubeconfig,
            request_timeout,
            cluster_timeout=cluster_timeout,
            parallel=parallel,
            config=settings,
            namespace=namespace,
            notes=notes,
            fail_on=fail_on,
            progress=progress,
        )
    from kfstor.render.output import STDOUT, OutputError, output

    for path, name in reports:
        if path is None:
            continue
        try:
            with output(path) as handle:
                render_fleet(outcome.report, handle, name)
        except OutputError as exc:
            die(str(exc), EXIT_USAGE)
    try:  # through output(): a reader that closes stdout early does not change the exit code
        with output(STDOUT) as handle:
            render_fleet(outcome.report, handle, fmt.value)
    except OutputError as exc:
        die(str(exc), EXIT_USAGE)
    sys.stdout.flush()
    code = outcome.report.exit_status
    if outcome.abandoned:
        # A cluster still busy past --cluster-timeout (a hung request or credential plugin) was
        # reported as such; do not wait for its thread at interpreter exit.
        sys.stderr.flush()
        os._exit(code)
    raise typer.Exit(code)


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
    from kfstor.render.output import STDOUT, OutputError, output

    try:
        review = diff.between(diff.load(old), diff.load(new), str(old))
    except diff.DiffError as exc:
        die(str(exc), EXIT_USAGE)
    try:  # through output(): a reader that closes stdout early does not change the exit code
        with output(STDOUT) as out:
            if fmt is DiffFormat.json:
                import json

                json.dump(review_dict(review), out, indent=2, ensure_ascii=False)
                out.write("\n")
            elif fmt is DiffFormat.markdown:
                out.write(markdown.review_section(review))
            else:
                terminal.render_review(review, out, color=color.value)
    except OutputError as exc:
        die(str(exc), EXIT_USAGE)
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
            typer.echo(_hang(f"{entry.id:<{width}}  {entry.title}  [{c.id}]", width + 2))
        return
    wanted = code.strip().upper()
    found = next(((c, entry) for c, entry in entries if entry.id == wanted), None)
    if found is None:
        from kfstor.engine import config as config_mod

        hint = config_mod.did_you_mean_code(wanted, [entry.id for _, entry in entries])
        die(f"unknown problem code {code!r}{hint} (kfstor explain lists them)", EXIT_USAGE)
    c, entry = found
    # Wrapped at the terminal's width (or $COLUMNS, else 100) at spaces only: a name or a kubectl
    # command in the text is never cut, nor wrapped mid-word by the terminal.
    width = _width()

    def para(text: str) -> str:
        return textwrap.fill(text, width, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False)

    typer.echo(para(f"{entry.id}: {entry.title} (check {c.id})") + "\n")
    typer.echo(para(f"What it means: {entry.meaning}") + "\n")
    typer.echo(para(f"Why it matters for Kubeflow: {entry.why}") + "\n")
    typer.echo(para(f"How to fix it: {entry.fix}"))
    if entry.links:
        typer.echo("\nLinks:")
        for link in entry.links:
            typer.echo(f"  {link}")


@app.command()
@_gc_paused_while
def snapshot(
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            help="File to write, or - for stdout. With several contexts: a directory, or a name with {context} in it.",
        ),
    ],
    fmt: Annotated[
        SnapshotFormat | None,
        typer.Option("--format", help="yaml or json (default: json for a FILE ending in .json, else yaml)."),
    ] = None,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = [],  # noqa: B006
    all_contexts: AllContextsOpt = False,
    parallel: ParallelOpt = 10,
    cluster_timeout: ClusterTimeoutOpt = 300.0,
    request_timeout: TimeoutOpt = 30.0,
    checks_dir: ChecksDirOpt = [],  # noqa: B006
) -> None:
    """Save the live cluster's objects that the checks need, for `kfstor audit --from FILE` later.

    The file is a kubectl-style List; it records when it was taken, the context and server version,
    and which kinds were read or forbidden, so auditing it gives the same report as the live audit.
    Several --context (or --all-contexts) write one file per context.
    """
    from kfstor.collect.snapshot import write
    from kfstor.render.output import OutputError
    from kfstor.render.output import output as open_output

    out_format = fmt.value if fmt else ("json" if output.lower().endswith(".json") else "yaml")
    checks, _ = _load(checks_dir, [], [])
    kinds = sorted({k for c in checks for k in c.all_kinds})
    # --- fleet: one file per context ---
    contexts = list(dict.fromkeys(context))
    if all_contexts or len(contexts) > 1:
        _snapshot_fleet(
            kinds, kubeconfig, contexts, all_contexts, output, fmt, parallel, cluster_timeout, request_timeout
        )
    # --- end fleet ---
    snap = _collect(kinds, kubeconfig, contexts[0] if contexts else None, request_timeout)
    server = snap.source.description
    try:
        with open_output(output) as handle:
            write(snap, handle, out_format, server=server)
    except OutputError as exc:
        die(str(exc), EXIT_USAGE)
    if output != "-":
        sys.stderr.write(f"{PROG}: wrote {snap.count()} objects to {_clean(output)}\n")
    _warn_unread(snap)
    _keep_until_exit(snap)


def _warn_unread(snap: Snapshot) -> None:
    """A snapshot that misses kinds it could not read is still written (it records them), but the
    one who took it must know before handing it on: its audit reports those checks not evaluated."""
    from kfstor.collect.snapshot import not_installed

    unread = sorted(kind for kind, why in snap.unavailable.items() if not not_installed(why))
    if unread:
        sys.stderr.write(
            f"{PROG}: warning: could not read {len(unread)} of the kinds audits need ({', '.join(unread)}): "
            "auditing this snapshot reports the checks that need them as not evaluated (exit 4); "
            "see kfstor rbac\n"
        )


def _snapshot_fleet(
    kinds: list[str],
    kubeconfig: str | None,
    contexts: list[str],
    all_contexts: bool,
    output: str,
    fmt: SnapshotFormat | None,
    parallel: int,
    cluster_timeout: float,
    request_timeout: float,
) -> NoReturn:
    """Several contexts: collect them concurrently and write one snapshot file per context."""
    from kfstor.collect.cluster import KubeconfigError
    from kfstor.collect.contexts import list_contexts, select
    from kfstor.collect.snapshot import write
    from kfstor.engine import fleet
    from kfstor.model import EXIT_OK, worst_exit
    from kfstor.render.output import OutputError
    from kfstor.render.output import output as open_output

    try:
        members = select(list_contexts(kubeconfig), contexts, all_contexts)
        paths = fleet.snapshot_paths(output, [m.name for m in members], fmt.value if fmt else None)
    except (KubeconfigError, ValueError) as exc:
        die(str(exc), EXIT_USAGE)
    with _progress() as progress:
        outcomes, abandoned = fleet.snapshots(
            members,
            kinds,
            kubeconfig,
            request_timeout,
            cluster_timeout=cluster_timeout,
            parallel=parallel,
            progress=progress,
        )
    codes = []
    for outcome in outcomes:
        path, out_format = paths[outcome.member.name]
        if outcome.value is None:
            sys.stderr.write(f"{PROG}: error: context {outcome.member.name}: {outcome.error}\n")
            codes.append(outcome.exit_code)
            continue
        snap = outcome.value
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open_output(path) as handle:
                write(snap, handle, out_format, server=snap.source.description)
        except (OSError, OutputError) as exc:
            sys.stderr.write(f"{PROG}: error: cannot write {path}: {getattr(exc, 'strerror', None) or exc}\n")
            codes.append(EXIT_USAGE)
            continue
        sys.stderr.write(f"{PROG}: wrote {snap.count()} objects of context {outcome.member.name} to {path}\n")
        _warn_unread(snap)
        codes.append(EXIT_OK)
    code = worst_exit(codes)
    if abandoned:
        sys.stderr.flush()
        os._exit(code)
    raise typer.Exit(code)


def _width() -> int:
    """The terminal's width (or $COLUMNS, else 100): listings wrap there, at spaces only."""
    return max(40, shutil.get_terminal_size((100, 24)).columns)


def _hang(text: str, indent: int, width: int | None = None) -> str:
    """One listing row wrapped at the width, its continuation lines under its second column; a
    name or a command in it is never cut."""
    return textwrap.fill(
        text,
        width or _width(),
        subsequent_indent=" " * indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


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
            _hang(
                f"Reads: {', '.join(c.kinds)}"
                + (f" (and, when readable, {', '.join(c.optional_kinds)})" if c.optional_kinds else ""),
                2,
            )
        )
        if c.options:
            typer.echo(
                _hang(
                    "Options (kfstor.yaml checks."
                    + c.id
                    + ".options): "
                    + ", ".join(f"{k} (default {v!r})" for k, v in sorted(c.options.items())),
                    2,
                )
            )
        typer.echo(_hang(f"Remediation: {c.remediation}", 2))
        if c.codes:
            typer.echo(_hang("Problem codes (kfstor explain CODE): " + ", ".join(code.id for code in c.codes), 2))
        typer.echo(f"Source: {c.origin}")
        return
    width = max(len(c.id) for c in checks)
    for c in checks:
        typer.echo(_hang(f"{c.id:<{width}}  {c.title}  [{', '.join(c.all_kinds)}]", width + 2))


@app.command()
def drivers(
    name: Annotated[str | None, typer.Argument(help="A provisioner name (or family): show its row.")] = None,
) -> None:
    """Print kfstor's provisioner table: what each driver serves, RWX, replication, and the sources."""
    from kfstor.facts.drivers import PROFILES, find_profile
    from kfstor.render import drivers as drivers_text

    if name is None:
        typer.echo(drivers_text.table(PROFILES, _width()), nl=False)
        return
    profile = find_profile(name) or next((p for p in PROFILES if p.family == name), None)
    if profile is None:
        die(f"no driver {name!r} in kfstor's table: its capabilities are reported as cannot verify", EXIT_USAGE)
    typer.echo(drivers_text.detail(profile, _width()), nl=False)


@app.command()
def rbac(
    name: Annotated[str, typer.Option("--name", help="Name of the ClusterRole.")] = "kfstor-auditor",
    service_account: Annotated[
        str | None,
        typer.Option("--service-account", metavar="NS/NAME", help="Bind the role to this ServiceAccount."),
    ] = None,
    checks_dir: ChecksDirOpt = [],  # noqa: B006
) -> None:
    """Print the minimal read-only ClusterRole for what the checks read, and its binding (to
    --service-account NS/NAME, else an example to edit)."""
    from kfstor.collect.rbac import cluster_role_yaml, parse_service_account

    subject = None
    if service_account is not None:
        try:
            subject = parse_service_account(service_account)
        except ValueError as exc:
            die(str(exc), EXIT_USAGE)
    checks, _ = _load(checks_dir, [], [])
    typer.echo(cluster_role_yaml(sorted({k for c in checks for k in c.all_kinds}), name, subject), nl=False)


@app.command("version")
def version_command() -> None:
    """Print kfstor's version (the same as --version)."""
    typer.echo(f"kfstor {__version__}")


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
    global PROG
    PROG = prog_name(sys.argv[0] if sys.argv else "kfstor")
    exceptions = _click_exceptions()
    no_args_help = getattr(exceptions, "NoArgsIsHelpError", None)
    _quiet_library_logging()
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        code = app(prog_name=PROG, standalone_mode=False)
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
        sys.stderr.write(f"{PROG}: error: {_clean(message)}{hint}\n")
        sys.exit(exc.exit_code)
    # Leave without freeing the heap object by object: an audit of a large cluster holds millions
    # of objects and tearing them down costs a tenth of a second for nothing. Output is flushed
    # first; kfstor registers no exit handlers (reports are already renamed into place).
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code if isinstance(code, int) else 0)


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
        sys.stderr.write(f"{PROG}: {word}\n")
        sys.stderr.flush()
    sys.exit(code)
