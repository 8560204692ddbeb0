"""Terminal report: root causes first, then the checks (worst first), one-line verdict at the end.

Every line but the last fits the terminal: text wraps with a hanging indent at the terminal's
width (100 columns when stdout is not a terminal, or $COLUMNS), and fix commands break at spaces
with shell line continuations so they still paste; a word that cannot be cut without changing
what it says (a quoted argument, a URL) stands whole on its own line, past the width if need be.
The verdict is the last line, whole: scripts read it with `tail -n 1`. Colour follows --color
auto|always|never; with auto, NO_COLOR turns it off and FORCE_COLOR on, else it is on for a
terminal. Cluster text is printed as text, never parsed as rich markup, and every string passes
through sanitize.terminal on its way out (in _Printer): no control character from the cluster or
a file reaches the terminal.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable
from typing import TextIO

from rich.console import Console
from rich.style import Style
from rich.text import Text

from kfstor.model import NOT_EVALUATED_FIX, Fix, Status
from kfstor.render import grouping
from kfstor.render.grouping import Grouping, Located
from kfstor.render.report import FAILED, PASSED, Report
from kfstor.render.review import Review, ReviewItem
from kfstor.render.sanitize import terminal as clean


class SafeText(Text):
    """rich's Text with kfstor's sanitizing first. rich itself silently strips BEL, BS, VT, FF and
    CR from every str it is given (Text(), append()), so a name holding one would be shown as if it
    did not: clean() turns them into escapes (or a space, for the line breaks) before rich sees them,
    as every other format does."""

    def __init__(self, text: str = "", style: str | Style = "") -> None:
        super().__init__(clean(text), style=style)

    def append(self, text: Text | str, style: str | Style | None = None) -> Text:
        return super().append(clean(text) if isinstance(text, str) else text, style)


STYLES = {
    Status.PASS: "green",
    Status.WARN: "yellow",
    Status.FAIL: "bold red",
    Status.ERROR: "bold magenta",
    Status.NOT_EVALUATED: "bold magenta",
    Status.SKIP: "dim",
}
BADGES = {status: status.value.upper() for status in Status} | {Status.NOT_EVALUATED: "NOT EVALUATED"}
VERDICT_STYLES = {PASSED: "bold green", FAILED: "bold red"}  # passed with warnings and incomplete: amber
MAX_SHOWN = 20  # findings listed per check (or per group); the rest are counted (full detail: json/html)
GROUP_EXAMPLES = 3  # objects named per group of many findings
DEFAULT_WIDTH = 100
INDENT = 6  # findings sit under their check
FINDING_INDENT = INDENT + 6  # a finding's text after its badge
COLOR_MODES = ("auto", "always", "never")
FIX_INDENT = 6


def color_enabled(out: TextIO, mode: str = "auto") -> bool:
    if mode == "always":
        return True
    if mode == "never":
        return False
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(out, "isatty", lambda: False)()
    return bool(isatty) and os.environ.get("TERM") != "dumb"


def _width(out: TextIO) -> int | None:
    """None on a terminal (rich asks it); else $COLUMNS when it is a sane number, else 100."""
    if getattr(out, "isatty", lambda: False)():
        return None
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and 20 <= int(columns) <= 1000:
        return int(columns)
    return DEFAULT_WIDTH


def _console(out: TextIO, color: str = "auto") -> Console:
    enabled = color_enabled(out, color)
    return Console(
        file=out,
        color_system="standard" if enabled else None,
        force_terminal=enabled,
        no_color=not enabled,
        highlight=False,
        soft_wrap=False,
        emoji=False,
        markup=False,
        width=_width(out),
    )


class _Printer:
    """Prints Text with a hanging indent, never past the console's width."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.width = max(console.width, 40)

    def line(self, first: Text | str, body: Text | str = "", indent: int | None = None) -> None:
        """`first` then `body`, wrapped at word boundaries; continuation lines start at `indent`
        (default: under the body's first character)."""
        head = _clean_text(first if isinstance(first, Text) else SafeText(first))
        text = head.copy()
        text.append_text(_clean_text(body if isinstance(body, Text) else SafeText(body)))
        pad = len(head.plain) if indent is None else indent
        pad = min(pad, self.width // 2)
        for n, (start, end) in enumerate(_breaks(text.plain, self.width, pad)):
            row = SafeText(" " * pad) if n else SafeText()
            row.append_text(text[start:end])
            self.console.print(row, soft_wrap=True)

    def whole(self, text: Text) -> None:
        """One line, never wrapped, whatever its length: for lines scripts read."""
        self.console.print(_clean_text(text), soft_wrap=True)

    def command(self, command: str, indent: int) -> None:
        """`$ command`, broken at spaces outside quotes with ` \\` so it pastes as one command.

        A word longer than the line (a JSON patch at 80 columns) is printed whole, past the width:
        a newline inside a quoted argument would change the command, while the terminal's own soft
        wrap does not (copying a soft-wrapped line gives it back as one line)."""
        room = self.width - indent - 4  # continuation lines sit 4 columns in
        for n, physical in enumerate(clean(line) for line in command.split("\n")):
            lead = "$ " if n == 0 else "  "
            for i, piece in enumerate(_shell_lines(physical, room)):
                prefix = " " * indent + (lead if i == 0 else "    ")
                self.console.print(SafeText(prefix + piece, style="cyan"), soft_wrap=True)

    def link(self, label: Text, url: str, indent: int) -> None:
        """`label url` on one line when it fits, else the URL alone on the next line, whole: a URL
        cut in two is neither clickable nor copyable."""
        url = clean(url)
        if len(label.plain) + len(url) <= self.width:
            self.line(label, SafeText(url, style=label.style))
            return
        self.line(SafeText(label.plain.rstrip(), style=label.style))
        self.console.print(SafeText(" " * indent + url, style=label.style), soft_wrap=True)


def _clean_text(text: Text) -> Text:
    """The same Text with every piece sanitized, styles kept: cut at every style boundary so each
    piece has one style, and rebuild a piece only when sanitizing changed it."""
    plain = text.plain
    cuts = sorted({0, len(plain)} | {s.start for s in text.spans} | {s.end for s in text.spans})
    out = SafeText(style=text.style)
    for start, end in itertools.pairwise(cuts):
        piece = text[start:end]
        cleaned = clean(piece.plain)
        if cleaned == piece.plain:
            out.append_text(piece)
            continue
        rebuilt = SafeText(cleaned, style=piece.style)
        for span in piece.spans:
            rebuilt.stylize(span.style, 0, len(cleaned))
        out.append_text(rebuilt)
    return out


def _breaks(plain: str, width: int, pad: int) -> list[tuple[int, int]]:
    """(start, end) offsets of each wrapped line: greedy at spaces, words longer than a line cut."""
    lines: list[tuple[int, int]] = []
    start = 0
    n = len(plain)
    while start < n:
        room = width if not lines else width - pad
        if not lines:
            pass
        else:
            while start < n and plain[start] == " ":
                start += 1
            if start >= n:
                break
        if n - start <= room:
            lines.append((start, n))
            break
        cut = plain.rfind(" ", start + 1, start + room + 1)
        if cut <= start:
            cut = start + room  # one word longer than the line: cut it
            lines.append((start, cut))
            start = cut
            continue
        end = cut
        while end > start and plain[end - 1] == " ":  # a double space before the break: no trailing blank
            end -= 1
        lines.append((start, end))
        start = cut + 1
    return lines or [(0, 0)]


def _shell_words(command: str) -> list[str]:
    """Split at spaces outside single and double quotes; quotes stay in the words."""
    words, current, quote = [], "", ""
    for ch in command:
        if quote:
            current += ch
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            current += ch
        elif ch == " ":
            if current:
                words.append(current)
            current = ""
        else:
            current += ch
    if current:
        words.append(current)
    return words


def _shell_lines(command: str, room: int) -> list[str]:
    if len(command) <= room:
        return [command]
    lines: list[str] = []
    current = ""
    for word in _shell_words(command):
        candidate = f"{current} {word}" if current else word
        if current and len(candidate) + 2 > room:
            lines.append(current + " \\")
            current = word
        else:
            current = candidate
    lines.append(current)
    return lines


def _badge(status: Status) -> Text:
    return SafeText(f"{BADGES[status]:5}", style=STYLES[status])


# --- install plan ---------------------------------------------------------------------


def _plan(p: _Printer, report: Report) -> None:
    """The claims the install will create and their predicted outcomes, worst first."""
    plan = report.plan
    if plan.source == "none":
        return
    summary = plan.summary()
    count = f"{len(plan.entries)} claim{'s' if len(plan.entries) != 1 else ''}"
    p.line(
        SafeText("PLAN  ", style="bold"), f"install plan — {plan.label}: {count}" + (f", {summary}" if summary else "")
    )
    entries = sorted(plan.entries, key=lambda e: (-e.outcome.status.rank, e.claim.namespace, e.claim.name))
    for entry in entries[:MAX_SHOWN]:
        claim = entry.claim
        head = SafeText(" " * INDENT)
        head.append_text(_badge(entry.outcome.status))
        body = SafeText(f" {claim.where}", style="bold" if entry.outcome.status is not Status.PASS else "")
        body.append(
            f"  {claim.size or 'no size'} {'/'.join(claim.access_modes)}  class {entry.class_text}  "
            f"{entry.outcome.label}: {entry.reason}  [{claim.role}; from {claim.source}]"
        )
        p.line(head, body, FINDING_INDENT)
    if len(entries) > MAX_SHOWN:
        p.line(SafeText(f"{' ' * INDENT}… {len(entries) - MAX_SHOWN} more", style="dim"))
    for note in plan.notes:
        p.line(SafeText(f"{' ' * INDENT}plan note: ", style="cyan"), SafeText(note, style="cyan"), FINDING_INDENT)
    p.console.print()


def _finding_body(located: Located, with_check: bool = False) -> Text:
    f = located.finding
    body = SafeText()
    if with_check:
        body.append(f"{located.check}: ", style="bold")
    if f.code:
        body.append(f"{f.code} ", style="bold")
    body.append(f"{f.ref}: ", style="bold" if f.status is not Status.PASS else "")
    body.append(f.message)
    if f.waived:
        until = f", until {f.waived.expires}" if f.waived.expires else ""
        was = f" ({f.original_status.value})" if f.original_status else ""
        body.append(f" [waived{was}: {f.waived.reason}{until}]", style="cyan")
    if f.note:
        body.append(f" [{f.note}]", style="cyan")
    if f.caused_by is not None and not with_check:
        body.append(f" [caused by {f.caused_by}]", style="dim")
    return body


def _fix(p: _Printer, fix: Fix | None, indent: int) -> None:
    if fix is None:
        return
    # A fix sits at a fixed small indent whatever the nesting, so long JSON patches fit the line.
    indent = min(indent, FIX_INDENT)
    if fix.text:
        p.line(SafeText(" " * indent + "fix: ", style="italic"), SafeText(fix.text, style="italic"), indent + 5)
    elif fix.commands:
        p.line(SafeText(" " * indent + "fix:", style="italic"))
    for command in fix.commands:
        p.command(command, indent + 2)
    if fix.docs:
        p.link(SafeText(" " * indent + "docs: ", style="dim"), fix.docs, indent + 2)


def _finding(p: _Printer, located: Located, indent: int = INDENT, with_fix: bool = True) -> None:
    head = SafeText(" " * indent)
    head.append_text(_badge(located.finding.status))
    head.append(" ")
    p.line(head, _finding_body(located), indent + 6)
    if with_fix and located.finding.status in grouping.PROBLEMS:
        _fix(p, located.finding.fix, indent + 6)


def _names(items: Iterable[Located], limit: int = GROUP_EXAMPLES) -> str:
    names = [it.finding.ref.name or str(it.finding.ref) for it in items]
    unique = list(dict.fromkeys(names))
    more = f" and {len(unique) - limit} more" if len(unique) > limit else ""
    return ", ".join(unique[:limit]) + more


def _root_causes(p: _Printer, grouping_: Grouping) -> None:
    if not grouping_.roots:
        return
    p.line(SafeText("ROOT CAUSES", style="bold"), SafeText(f" — {grouping_.headline()}"))
    for root in grouping_.roots:
        _finding(p, root.root, indent=0, with_fix=False)
        _fix(p, root.root.finding.fix, 6)
        parts = [f"{check} ×{len(items)} ({_names(items)})" for check, items in root.by_check()]
        p.line(SafeText("      causes: ", style="dim"), SafeText("; ".join(parts), style="dim"), 14)
    p.console.print()


def _check(p: _Printer, report: Report, grouping_: Grouping, result: object) -> None:
    from kfstor.model import CheckResult

    assert isinstance(result, CheckResult)
    line = SafeText()
    line.append_text(_badge(result.status))
    line.append(f" {result.id}", style="bold")
    line.append(f" — {result.check.title}")
    p.line(line, "", 6)
    if not result.findings:
        p.line(SafeText(" " * INDENT), SafeText(result.reason, style="dim"), INDENT)
        if result.status is Status.NOT_EVALUATED:
            p.line(
                SafeText(" " * INDENT + "fix: ", style="italic"),
                SafeText(NOT_EVALUATED_FIX, style="italic"),
                INDENT + 5,
            )
        return
    located = [Located(result.id, i, f) for i, f in enumerate(result.findings)]
    # Waived and turned-off findings stay visible: an accepted risk is still a risk a reader should see.
    aside = [grouping.set_aside(it.finding) for it in located]
    problems = [it for it in located if it.finding.status not in (Status.PASS, Status.SKIP) or aside[it.index]]
    passing = [it for it in located if it.finding.status is Status.PASS and not aside[it.index]]
    skipped = [it for it in located if it.finding.status is Status.SKIP and not aside[it.index]]
    if result.status in (Status.PASS, Status.SKIP) and not problems:
        # Compact: a passing check is one line; a skipped one says why (its cause when one is known).
        if result.status is Status.PASS:
            # Skips stay counted: a passing check never hides what it did not judge (Katib not installed).
            skips = f", {len(skipped)} skipped" if skipped else ""
            p.line(SafeText(f"      ({len(passing)} passing{skips})", style="dim"))
            return
        _skipped(p, grouping_, result.id, skipped)
        return
    # A finding set aside stays on its own line with its reason, even when a root cause explains it.
    own = [it for it in problems if grouping_.root_of(result.id, it.index) is None or aside[it.index]]
    caused: dict[tuple[str, str], list[Located]] = {}
    for it in problems:
        root = grouping_.root_of(result.id, it.index)
        if root is not None and not aside[it.index]:
            caused.setdefault((root.root.finding.code, str(root.root.finding.ref)), []).append(it)
    if len(own) > grouping.GROUP_AT:
        for group in grouping.finding_groups(report, result, own):
            head = SafeText(" " * INDENT)
            head.append_text(_badge(group.status))
            head.append(f" {group.code} ×{len(group.items)} ", style="bold")
            p.line(head, SafeText(f"{group.title} — {group.facet_text()}"), INDENT + 6)
            for it in group.items[:GROUP_EXAMPLES]:
                _finding(p, it, indent=INDENT + 6, with_fix=False)
            if len(group.items) > GROUP_EXAMPLES:
                p.line(SafeText(f"{' ' * (INDENT + 6)}… {len(group.items) - GROUP_EXAMPLES} more", style="dim"))
            # After the examples, not between them: the fix of the first, which the others follow.
            first = group.items[0].finding
            if first.fix is not None and first.status in grouping.PROBLEMS:
                others = " (the others alike, each with its own names)" if len(group.items) > 1 else ""
                p.line(SafeText(f"{' ' * (INDENT + 6)}for {first.ref}{others}:", style="dim"), "", INDENT + 8)
                _fix(p, first.fix, INDENT + 6)
    else:
        for it in own[:MAX_SHOWN]:
            if grouping_.is_root(result.id, it.index):
                head = SafeText(" " * INDENT)
                head.append_text(_badge(it.finding.status))
                head.append(" ")
                body = _finding_body(it)
                body.append(" (root cause: its fix is above)", style="dim")
                p.line(head, body, INDENT + 6)
            else:
                _finding(p, it)
        if len(own) > MAX_SHOWN:
            p.line(SafeText(f"      … {len(own) - MAX_SHOWN} more", style="dim"))
    for (code, ref), items in caused.items():
        head = SafeText(" " * INDENT)
        head.append_text(_badge(items[0].finding.status))
        p.line(
            head,
            SafeText(f" {len(items)} caused by {code} on {ref} (see root causes): {_names(items, 6)}", style="dim"),
            INDENT + 6,
        )
    extra = []
    if passing:
        extra.append(f"{len(passing)} passing")
    if skipped:
        extra.append(f"{len(skipped)} skipped")
    if extra:
        p.line(SafeText(f"      ({', '.join(extra)})", style="dim"))


def _skipped(p: _Printer, grouping_: Grouping, check_id: str, skipped: list[Located]) -> None:
    by_root: dict[str, list[Located]] = {}
    alone: list[Located] = []
    for it in skipped:
        root = grouping_.root_of(check_id, it.index)
        if root is None:
            alone.append(it)
        else:
            by_root.setdefault(f"{root.root.finding.code} on {root.root.finding.ref}", []).append(it)
    for cause, items in by_root.items():
        p.line(
            SafeText(" " * INDENT),
            SafeText(f"{len(items)} skipped because of {cause}: {_names(items, 6)}", style="dim"),
        )
    for it in alone[:GROUP_EXAMPLES]:
        p.line(SafeText(" " * INDENT), SafeText(it.finding.message, style="dim"))
    if len(alone) > GROUP_EXAMPLES:
        p.line(SafeText(f"      … {len(alone) - GROUP_EXAMPLES} more skipped", style="dim"))


def _review(p: _Printer, review: Review) -> None:
    p.line(SafeText("SINCE THE LAST REVIEW", style="bold"), SafeText(f" — {review.counts()}"))

    def rows(label: str, items: tuple[ReviewItem, ...], style: str, with_message: bool = True) -> None:
        for item in items[:MAX_SHOWN]:
            was = f" (was {item.previous})" if item.previous else ""
            head = SafeText(f"      {label:10}", style=style)
            text = f"{item.status.upper():6}{item.label}{was}" + (f": {item.message}" if with_message else "")
            p.line(head, SafeText(text), 6 + 10 + 6)
        if len(items) > MAX_SHOWN:
            p.line(SafeText(f"      … {len(items) - MAX_SHOWN} more {label}", style="dim"))

    rows("new", review.new, "bold red")
    rows("resolved", review.resolved, "green")
    rows("unchanged", review.unchanged, "dim", with_message=False)
    p.console.print()


def render(report: Report, out: TextIO, color: str = "auto") -> None:
    console = _console(out, color)
    p = _Printer(console)
    src = report.source
    header = SafeText("kfstor ", style="bold")
    header.append(f"{report.version} · {clean(src.description)}")
    if src.context:
        header.append(f" (context {clean(src.context)})")
    if src.server_version:
        header.append(f" · Kubernetes {src.server_version}")
    header.append(f" · Kubeflow namespace {report.namespace}")
    p.line(header, "", 2)
    if src.insecure_tls:
        p.line(SafeText(f"warning: {INSECURE_TLS}", style="bold yellow"), "", 2)
    details = " · ".join(part for part in (clean(report.collected_text()), config_line(report)) if part)
    if details:
        p.line(SafeText(details, style="dim"), "", 2)
    console.print()
    groups = grouping.group(report)
    if report.review is not None:
        _review(p, report.review)
    _root_causes(p, groups)
    for result in grouping.ordered(report, groups):
        _check(p, report, groups, result)
    _plan(p, report)
    for note in report.notes:
        p.line(SafeText("note: ", style="cyan"), SafeText(note, style="cyan"), 6)
    console.print()
    if groups.roots:
        p.line(SafeText(groups.headline()[0].upper() + groups.headline()[1:] + ".", style="bold"), "", 2)
    if report.review is not None:
        p.line(SafeText(report.review.summary()[0].upper() + report.review.summary()[1:] + ".", style="bold"), "", 2)
    # The verdict is the last line, always, and whole (the one line never wrapped): scripts read it
    # with tail -n 1 and grep it.
    p.whole(SafeText(report.verdict(), style=VERDICT_STYLES.get(report.verdict_key, "bold yellow")))


INSECURE_TLS = "TLS verification is off (insecure-skip-tls-verify): the server's identity was not checked"


def config_line(report: Report) -> str:
    """Which config file and which waivers the verdicts rest on (one line)."""
    applied = report.config
    if not applied.path:
        return "config: none (no kfstor.yaml)"
    waivers = ", ".join(w.target for w in applied.waivers)
    declared = len(applied.declared)
    return f"config: {applied.path}; waivers applied: {waivers or 'none'} (of {declared} declared)"


def render_review(review: Review, out: TextIO, color: str = "auto") -> None:
    """`kfstor diff`: the comparison alone, ending with a one-line summary."""
    p = _Printer(_console(out, color))
    _review(p, review)
    new = len(review.new)
    style = "bold red" if new else "bold green"
    p.line(SafeText(f"{new} new, {len(review.resolved)} resolved, {len(review.unchanged)} unchanged", style=style))
