"""ProblemLog: bad input is logged once per cause, not once per message.

A cause is ``(subject, kind)``: the subject is what the problem is about (a
marker ``("marker", ns, id)``, a frame ``("frame", name)``, a TF link
``("tf", child)``), the kind what is wrong with it (``colors``, ``nan``,
``loop``, ...). The first report of a cause is logged; repeats are counted,
not logged. When the subject is fixed (a good marker replaces the bad one, the
frame connects) ``resolve`` forgets its causes, so a relapse is logged again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Hashable, Iterable, Sequence

LOGGER = logging.getLogger("vuer_ros.scene")

# Causes remembered at most; past it the oldest are forgotten (and would log again).
MAX_CAUSES = 100_000
# Names quoted in one message that lists frames or links; the rest are counted.
NAMED = 5


def name_list(names: Sequence[str], limit: int = NAMED) -> str:
    """``'a', 'b', 'c'``, or the first ``limit`` names and ``and <n> more``."""
    quoted = ", ".join(f"'{name}'" for name in names[:limit])
    return quoted + (f" and {len(names) - limit} more" if len(names) > limit else "")


@dataclass
class Problem:
    subject: Hashable
    kind: str
    message: str
    level: int
    count: int = 1


class ProblemLog:
    def __init__(self, logger: logging.Logger | None = None, max_causes: int = MAX_CAUSES):
        self.logger = logger or LOGGER
        self.max_causes = max_causes
        self._problems: dict[tuple[Hashable, str], Problem] = {}
        self._by_subject: dict[Hashable, set[str]] = {}

    def report(self, subject: Hashable, kind: str, message: str,
               level: int = logging.WARNING) -> bool:
        """Record a problem; log it if its cause is new. Returns True when logged."""
        cause = (subject, kind)
        known = self._problems.get(cause)
        if known is not None:
            known.count += 1
            known.message = message
            return False
        if len(self._problems) >= self.max_causes:
            oldest = next(iter(self._problems))
            self._forget(oldest)
        self._problems[cause] = Problem(subject, kind, message, level)
        self._by_subject.setdefault(subject, set()).add(kind)
        self.logger.log(level, "%s", message)
        return True

    def has(self, subject: Hashable) -> bool:
        """Whether the subject has any recorded problem."""
        return subject in self._by_subject

    def resolve(self, subject: Hashable, keep: Iterable[str] = ()) -> None:
        """Forget the subject's causes, except the kinds in ``keep``."""
        kinds = self._by_subject.get(subject)
        if not kinds:
            return
        keep = set(keep)
        for kind in list(kinds - keep):
            self._forget((subject, kind))

    def _forget(self, cause: tuple[Hashable, str]) -> None:
        self._problems.pop(cause, None)
        kinds = self._by_subject.get(cause[0])
        if kinds is not None:
            kinds.discard(cause[1])
            if not kinds:
                del self._by_subject[cause[0]]

    def active(self, subject: Hashable | None = None) -> list[Problem]:
        """Current problems (of one subject, or all), oldest first."""
        if subject is None:
            return list(self._problems.values())
        return [self._problems[(subject, k)] for k in sorted(self._by_subject.get(subject, ()))]

    def messages(self) -> list[str]:
        return [p.message for p in self._problems.values()]

    def __contains__(self, cause: object) -> bool:
        return cause in self._problems

    def __len__(self) -> int:
        return len(self._problems)
