"""A stand-in for ``cv2`` in examples that show grabbed frames in a window.

With a display (and an OpenCV build with GUI support) every call goes to cv2.
Without one (a robot, CI, ssh), ``imshow`` counts frames and prints the frame
rate every two seconds instead of failing, and ``waitKey`` returns -1 (no key).
Import it in place of cv2: ``from vuer_ros import display as cv2``.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import cv2 as _cv2

from .render.vuer_app import has_display  # the same test that starts the headless renderer

_stats = {"frames": 0, "since": 0.0, "total": 0}


def imshow(winname: str, image: Any) -> None:
    if has_display():
        try:
            _cv2.imshow(winname, image)
            return
        except _cv2.error:
            pass  # OpenCV built without GUI support: fall back to a report
    now = time.monotonic()
    if _stats["since"] == 0.0:
        _stats["since"] = now
    _stats["frames"] += 1
    _stats["total"] += 1
    elapsed = now - _stats["since"]
    if elapsed >= 2.0:
        h, w = image.shape[:2]
        print(f"[{winname}] {_stats['frames'] / elapsed:.1f} frames/s ({w}x{h}, "
              f"{_stats['total']} frames in all)", file=sys.stdout, flush=True)
        _stats["frames"] = 0
        _stats["since"] = now


def waitKey(delay: int = 0) -> int:
    if has_display():
        try:
            return _cv2.waitKey(delay)
        except _cv2.error:
            pass
    return -1


def __getattr__(name: str) -> Any:
    # everything else (cvtColor, COLOR_BGR2RGB, imwrite, ...) is plain cv2
    return getattr(_cv2, name)
