"""Root causes first, and many findings in groups: what every human-facing format shows.

A finding that records its cause (`caused_by`: a code and an object) is grouped under the finding
with that code on that object, followed up the chain to the first finding that has no cause of its
own: the root cause. A warn or fail root with findings under it is a *root cause* and leads the
report ("1 root cause; fixing it clears 6 findings"). A cause that is not in the report (its check
did not run) leaves the finding where it is, with its cause named.

Checks with many problems show them grouped by problem code, with counts per namespace,
StorageClass and phase read from the facts view, so 101 broken claims read as a few lines.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from kfstor.facts import k8s
from kfstor.facts.view import ClassSource
from kfstor.model import CheckResult, Code, Finding, Status
from kfstor.render.report import Report

PROBLEMS = (Status.WARN, Status.FAIL)
GROUP_AT = 6  # a check with more problem findings than this shows them grouped


@dataclass(frozen=True, slots=True)
class Located:
    """A finding and where it is: its check and its index among the check's findings."""

    check: str
    index: int
    finding: Finding


@dataclass(frozen=True, slots=True)
class RootCause:
    root: Located
    caused: tuple[Located, ...]  # every finding under it, directly or through a chain, in report order

    @property
    def cleared(self) -> tuple[Located, ...]:
        """The warn/fail findings that fixing the root clears."""
        return tuple(c for c in self.caused if c.finding.status in PROBLEMS)

    @property
    def unblocked(self) -> tuple[Located, ...]:
        """The findings skipped because of the root: fixing it lets them be judged."""
        return tuple(c for c in self.caused if c.finding.status is Status.SKIP)

    def by_check(self) -> list[tuple[str, list[Located]]]:
        groups: dict[str, list[Located]] = {}
        for item in self.caused:
            groups.setdefault(item.check, []).append(item)
        return list(groups.items())


@dataclass(frozen=True, slots=True)
class Grouping:
    roots: tuple[RootCause, ...]
    under: Mapping[tuple[str, int], RootCause]  # (check id, finding index) -> the root cause it is under
    root_keys: frozenset[tuple[str, int]]

    def root_of(self, check_id: str, index: int) -> RootCause | None:
        return self.under.get((check_id, index))

    def is_root(self, check_id: str, index: int) -> bool:
        return (check_id, index) in self.root_keys

    @property
    def cleared(self) -> int:
        return sum(len(r.cleared) for r in self.roots)

    def headline(self) -> str:
        """ "2 root causes; fixing them clears 7 findings", or "" when there is none."""
        n = len(self.roots)
        if not n:
            return ""
        noun, them = ("root cause", "it") if n == 1 else ("root causes", "them")
        cleared = self.cleared
        text = f"{n} {noun}; fixing {them} clears {cleared} finding{'s' if cleared != 1 else ''}"
        unblocked = sum(len(r.unblocked) for r in self.roots)
        if unblocked:
            text += f" and lets {unblocked} skipped finding{'s' if unblocked != 1 else ''} be judged"
        return text


def group(report: Report) -> Grouping:
    located = [Located(r.id, i, f) for r in report.results for i, f in enumerate(r.findings)]
    index: dict[tuple[str, str], Located] = {}
    for item in located:
        if item.finding.code:
            named = (item.finding.code, str(item.finding.ref))
            best = index.get(named)
            # A problem outranks a pass or skip carrying the same code (a waived twin, say).
            if best is None or item.finding.status.rank > best.finding.status.rank:
                index[named] = item

    def root(item: Located) -> Located | None:
        seen: set[tuple[str, int]] = set()
        current = item
        while current.finding.caused_by is not None:
            cause = current.finding.caused_by
            parent = index.get((cause.code, str(cause.ref)))
            if parent is None or (parent.check, parent.index) in seen or parent is current:
                break
            seen.add((parent.check, parent.index))
            current = parent
        return current if current is not item else None

    members: dict[tuple[str, int], list[Located]] = {}
    roots_by_key: dict[tuple[str, int], Located] = {}
    for item in located:
        top = root(item)
        if top is None or top.finding.status not in PROBLEMS:
            continue
        where = (top.check, top.index)
        roots_by_key[where] = top
        members.setdefault(where, []).append(item)
    roots = tuple(
        RootCause(roots_by_key[key], tuple(items))
        for key, items in sorted(members.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    )
    under = {(c.check, c.index): r for r in roots for c in r.caused}
    return Grouping(roots, under, frozenset((r.root.check, r.root.index) for r in roots))


def ordered(report: Report, grouping: Grouping) -> tuple[CheckResult, ...]:
    """Worst first; among equals, checks holding root causes before checks whose problems all have
    a cause elsewhere (claim_health's Pending claims come after default_storage_class), then by id."""

    def caused_only(result: CheckResult) -> bool:
        problems = [i for i, f in enumerate(result.findings) if f.status in PROBLEMS]
        return bool(problems) and all(grouping.root_of(result.id, i) for i in problems)

    return tuple(sorted(report.results, key=lambda r: (-r.status.rank, caused_only(r), r.id)))


def code_titles(report: Report) -> dict[str, Code]:
    return {code.id: code for r in report.results for code in r.check.codes}


@dataclass(frozen=True, slots=True)
class FindingGroup:
    """Findings of one check with one code (and status): one problem on many objects."""

    code: str
    title: str
    status: Status
    items: tuple[Located, ...]
    facets: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]  # ("namespace", (("team-a", 40), ...)), ...

    def facet_text(self, limit: int = 4) -> str:
        parts = []
        for name, counts in self.facets:
            shown = ", ".join(f"{value} {n}" for value, n in counts[:limit])
            more = f", +{len(counts) - limit} more" if len(counts) > limit else ""
            parts.append(f"{name}: {shown}{more}")
        return "; ".join(parts)


def facets(report: Report, finding: Finding) -> dict[str, str]:
    """Namespace, StorageClass and phase of a finding's object, read from the facts view."""
    ref = finding.ref
    out: dict[str, str] = {}
    if ref.namespace:
        out["namespace"] = ref.namespace
    if ref.kind == "PersistentVolumeClaim":
        pvc = report.facts.get("PersistentVolumeClaim", ref.name, ref.namespace)
        if pvc is not None:
            cls = report.facts.claim_class(pvc)
            out["class"] = "(no default)" if cls.source is ClassSource.NO_DEFAULT else (cls.name or '""')
            out["phase"] = k8s.phase(pvc)
    elif ref.kind == "PersistentVolume":
        pv = report.facts.get("PersistentVolume", ref.name)
        if pv is not None:
            out["class"] = k8s.dig(pv, "spec", "storageClassName", default="") or '""'
            out["phase"] = k8s.phase(pv, default="") or "no phase"
    return out


def finding_groups(report: Report, result: CheckResult, items: list[Located]) -> list[FindingGroup]:
    """The problem findings of one check grouped by code, biggest group first, with facet counts."""
    titles = code_titles(report)
    buckets: dict[tuple[str, Status], list[Located]] = {}
    for item in items:
        buckets.setdefault((item.finding.code, item.finding.status), []).append(item)
    groups = []
    for (code, status), members in buckets.items():
        counters: dict[str, Counter[str]] = {"namespace": Counter(), "class": Counter(), "phase": Counter()}
        for item in members:
            for name, value in facets(report, item.finding).items():
                counters[name][value] += 1
        shown = tuple(
            (name, tuple(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))))
            for name, counter in counters.items()
            if counter
        )
        entry = titles.get(code)
        title = entry.title if entry is not None else (code or "other findings")
        groups.append(FindingGroup(code, title, status, tuple(members), shown))
    groups.sort(key=lambda g: (-g.status.rank, -len(g.items), g.code))
    return groups
