"""ThrottledLog: log a recurring problem once per cause, not once per message.

The first occurrence of a cause is logged at once; repeats within
``interval`` seconds are counted and the count is reported with the next line
for that cause.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Hashable


class ThrottledLog:
    def __init__(self, logger: logging.Logger, interval: float = 10.0, max_causes: int = 1024) -> None:
        self.logger = logger
        self.interval = interval
        self.max_causes = max_causes
        self._last: dict[Hashable, float] = {}
        self._suppressed: dict[Hashable, int] = {}

    def log(self, level: int, cause: Hashable, msg: str, *args: Any) -> bool:
        """Log ``msg % args`` unless ``cause`` was logged in the last interval.
        Returns True when a line was written."""
        now = time.monotonic()
        last = self._last.get(cause)
        if last is not None and now - last < self.interval:
            self._suppressed[cause] = self._suppressed.get(cause, 0) + 1
            return False
        if len(self._last) >= self.max_causes and cause not in self._last:
            self._last.clear()
            self._suppressed.clear()
        self._last[cause] = now
        repeats = self._suppressed.pop(cause, 0)
        if repeats:
            msg += " (%d more like this in the last %.0f s)"
            args = (*args, repeats, now - (last or now))
        self.logger.log(level, msg, *args)
        return True

    def warning(self, cause: Hashable, msg: str, *args: Any) -> bool:
        return self.log(logging.WARNING, cause, msg, *args)

    def forget(self, predicate: Any) -> None:
        """Drop the causes for which ``predicate(cause)`` is true (a closed session's)."""
        for cause in [c for c in self._last if predicate(c)]:
            self._last.pop(cause, None)
            self._suppressed.pop(cause, None)
