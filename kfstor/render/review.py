"""Review over time: which problems are new, resolved or unchanged since an earlier report.

A problem is identified by its check, its code and its object (older reports without codes fall
back to the message), so a reworded message or a reordered report does not make a problem "new".
kfstor/engine/diff.py computes a Review from two JSON reports; every renderer shows it as the
"Since the last review" section.
"""

from __future__ import annotations

from dataclasses import dataclass

from kfstor.model import FailOn, Status

PROBLEM_STATUSES = ("warn", "fail", "error")


@dataclass(frozen=True, slots=True, order=True)
class ReviewItem:
    """One problem in one of the two reports: its identity and how it reads."""

    check: str
    code: str
    object: str
    status: str  # warn | fail | error: in the newer report (new, unchanged) or the older one (resolved)
    message: str
    previous: str = ""  # for unchanged problems whose status changed: the older status

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.check, self.code or self.message, self.object)

    @property
    def label(self) -> str:
        return f"{self.code or self.check} on {self.object}"


@dataclass(frozen=True, slots=True)
class Review:
    baseline: str  # which report it compares against (a path)
    baseline_created: str  # when that report was made
    new: tuple[ReviewItem, ...]
    resolved: tuple[ReviewItem, ...]
    unchanged: tuple[ReviewItem, ...]

    def new_at_or_above(self, fail_on: FailOn) -> tuple[ReviewItem, ...]:
        """New problems that fail the gate: errors always, else at or above --fail-on."""
        if fail_on is FailOn.NEVER:
            return tuple(i for i in self.new if i.status == "error")
        threshold = Status.WARN if fail_on is FailOn.WARN else Status.FAIL
        return tuple(i for i in self.new if Status(i.status).rank >= threshold.rank)

    def summary(self) -> str:
        return (
            f"since the last review ({self.baseline_created or self.baseline}): {len(self.new)} new, "
            f"{len(self.resolved)} resolved, {len(self.unchanged)} unchanged"
        )


def compare(old: list[ReviewItem], new: list[ReviewItem], baseline: str, baseline_created: str) -> Review:
    old_by_key = {item.key: item for item in old}
    new_by_key = {item.key: item for item in new}
    added = sorted(item for key, item in new_by_key.items() if key not in old_by_key)
    resolved = sorted(item for key, item in old_by_key.items() if key not in new_by_key)
    unchanged = []
    for key, item in sorted(new_by_key.items()):
        before = old_by_key.get(key)
        if before is None:
            continue
        previous = before.status if before.status != item.status else ""
        unchanged.append(ReviewItem(item.check, item.code, item.object, item.status, item.message, previous=previous))
    return Review(baseline, baseline_created, tuple(added), tuple(resolved), tuple(unchanged))
