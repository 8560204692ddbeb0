"""`kfstor drivers`: the provisioner table as text, so users can see what kfstor knows and from where."""

from __future__ import annotations

import textwrap

from kfstor.facts.profile import Capability, Profile, ReplicationKind, Rule, ServesRule

R = ReplicationKind


def _keys(rule: Rule | ServesRule) -> str:
    conditions = [case.when for case in rule.cases] if isinstance(rule, Rule) else [c for c, _ in rule.cases]
    keys = dict.fromkeys(key for cond in conditions for key in cond.keys)
    return "/".join(keys)


def capability(cap: Capability) -> str:
    if isinstance(cap, Rule):
        return f"by {_keys(cap).split('/')[0]}"
    return {True: "yes", False: "no", None: "unknown"}[cap]


def serves(profile: Profile) -> str:
    if isinstance(profile.serves, ServesRule):
        return f"by {_keys(profile.serves).split('/')[0]}"
    return profile.serves.value


def replication(profile: Profile) -> str:
    rep = profile.replication
    if rep.kind is R.PARAMETER:
        default = f", default {rep.default}" if rep.default is not None else ""
        return f"{rep.keys[0]}{default}"
    return {
        R.INFRASTRUCTURE: "infrastructure",
        R.EXTERNAL: "outside the class",
        R.NONE: "none (one node)",
        R.UNKNOWN: "unknown",
    }[rep.kind]


def _fill(text: str, width: int, first: str, rest: str) -> list[str]:
    """Wrapped at spaces only (a source path or a name is never cut)."""
    return textwrap.wrap(
        text, width, initial_indent=first, subsequent_indent=rest, break_long_words=False, break_on_hyphens=False
    )


def table(profiles: tuple[Profile, ...], width: int = 0) -> str:
    """One row per family; `width` (a terminal's) wraps the sources under their column, and below
    the width the table needs, each family becomes a short record instead."""
    rows = [("family", "provisioner", "serves", "RWX", "RWX block", "replication", "source")]
    for p in profiles:
        name = p.names[0] if p.names else "*." + p.suffixes[0]
        if p.removed:
            rows.append((p.family, name, "removed", "-", "-", "-", p.source))
            continue
        rows.append(
            (p.family, name, serves(p), capability(p.rwx_fs), capability(p.rwx_block), replication(p), p.source)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)] + [0]
    indent = sum(widths[:-1]) + 2 * (len(widths) - 1)
    lines: list[str] = []
    if not width or width - indent >= 50:
        for row in rows:
            head = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])) + "  "
            if not width:
                lines.append((head + row[-1]).rstrip())
            else:
                lines += _fill(row[-1], width, head, " " * indent) or [head.rstrip()]
    else:
        for family, name, kind, rwx, rwx_block, rep, source in rows[1:]:
            lines.append(f"{family}  {name}")
            lines += _fill(
                f"serves {kind} · RWX {rwx} · RWX block {rwx_block} · replication {rep}", width, "    ", "    "
            )
            lines += _fill(f"source: {source}", width, "    ", "      ")
    lines.append("")
    note = 'kfstor drivers NAME shows one row with its sources; unknown means kfstor reports "cannot verify".'
    lines += _fill(note, width, "", "") if width else [note]
    return "\n".join(lines) + "\n"


def _tri(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "unknown"}[value]


def _rule_lines(title: str, cap: Capability) -> list[str]:
    if not isinstance(cap, Rule):
        return [f"{title}: {capability(cap)}"]
    lines = [f"{title}:"]
    for case in cap.cases:
        cond = case.when
        values = "set" if not cond.values else "in " + ", ".join(cond.values)
        if cond.absent:
            values = "unset"
        lines.append(f"  {'/'.join(cond.keys)} {values}: {_tri(case.value)} ({case.why})")
    lines.append(f"  otherwise: {_tri(cap.otherwise)} ({cap.otherwise_why})")
    return lines


def detail(profile: Profile, width: int = 0) -> str:
    p = profile
    lines = [f"{p.label} ({p.family})", f"names: {', '.join(p.names) or '-'}"]
    if p.suffixes:
        lines.append(f"also matched as <prefix>.<suffix> or <prefix>/<suffix>: {', '.join(p.suffixes)}")
    if p.in_tree:
        lines.append(f"in-tree names migrated to it: {', '.join(p.in_tree)}")
    if p.removed:
        lines.append(f"removed: {p.removed}")
    if isinstance(p.serves, ServesRule):
        lines.append(f"serves: by {_keys(p.serves)}")
        for cond, value in p.serves.cases:
            lines.append(f"  {'/'.join(cond.keys)} in {', '.join(cond.values)}: {value.value}")
        lines.append(f"  otherwise: {p.serves.otherwise.value}")
    else:
        lines.append(f"serves: {p.serves.value}")
    lines += _rule_lines("ReadWriteMany file system", p.rwx_fs)
    lines += _rule_lines("ReadWriteMany raw block", p.rwx_block)
    rep = p.replication
    lines.append(f"replication: {replication(p)}" + (f" ({rep.note})" if rep.note else ""))
    if rep.maximum is not None:
        lines.append(f"  at most {rep.maximum}")
    for case in rep.overrides:
        lines.append(f"  {'/'.join(case.when.keys)} in {', '.join(case.when.values)}: {case.why}")
    lines += _rule_lines("zonal", p.zonal)
    lines.append(f"node-local: {_tri(p.node_local)}")
    lines.append(f"registers a CSIDriver: {_tri(p.csi)}; attachRequired: {_tri(p.attach_required)}")
    lines.append(f"snapshots: {_tri(p.snapshots)}; expansion: {_tri(p.expansion)}")
    lines += [f"note: {note}" for note in p.notes]
    lines.append(f"source: {p.source}")
    if width:
        lines = [wrapped for line in lines for wrapped in _fill(line, width, "", " " * _lead(line) + "  ") or [""]]
    return "\n".join(lines) + "\n"


def _lead(line: str) -> int:
    return len(line) - len(line.lstrip(" "))
