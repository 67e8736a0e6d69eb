"""FramePublisher: rendered frames -> the live node's outputs, on a thread of their own.

JPEG encoding and DDS publishing overlap the next grab. At most two ticks' frames
wait (two per camera); when the sink falls behind the oldest is dropped and counted,
so a slow subscriber never delays rendering.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from ..render.camera import RenderCamera
from ..render.camera_spec import CameraSpec
from ..render.settings import RenderSettings
from ..server import Frame
from ..server.logs import ThrottledLog
from .image_fields import Fields, Wants, image_fields
from .stats import RenderStats

logger = logging.getLogger("vuer_ros.view")


@dataclass
class RenderedFrame:
    frame: Frame
    stamp_ns: int              # the ROS time of the scene it shows
    camera: RenderCamera
    settings: RenderSettings
    grabbed_at: float          # time.monotonic() when it came back
    spec: CameraSpec           # which camera: its topics and optical frame
    camera_tf_parent: str | None = None   # the camera's pose goes out with it (player.py)


class FrameSink(Protocol):
    """Where images go (the live node's publishers)."""

    def wants(self, camera: str = "") -> Wants:
        """Which outputs of ``camera`` (its name; "" the node's own) have subscribers now."""
        ...

    def publish(self, messages: dict[str, Fields]) -> None:
        """Publish these messages (topic -> fields, image_fields.py)."""
        ...


class FramePublisher:
    def __init__(self, sink: FrameSink, stats: RenderStats, cameras: int = 1) -> None:
        self.sink = sink
        self.stats = stats
        self._queue: queue.Queue[RenderedFrame | None] = queue.Queue(maxsize=2 * max(cameras, 1))
        self._thread: threading.Thread | None = None
        self._throttled = ThrottledLog(logger, interval=10.0)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="vuer-publisher", daemon=True)
        self._thread.start()

    def put(self, rendered: RenderedFrame | None) -> None:
        """Queue a frame (None: stop), dropping the oldest waiting one when full."""
        while True:
            try:
                self._queue.put_nowait(rendered)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self.stats.dropped += 1
                except queue.Empty:
                    pass

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self.put(None)
        thread.join(5.0)

    def _run(self) -> None:
        stats = self.stats
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                settings, spec = item.settings, item.spec
                wants = self.sink.wants(spec.name) if settings.lazy else Wants()
                frame = item.frame
                self.sink.publish(image_fields(
                    frame.rgb, frame.depth, item.camera, item.stamp_ns, spec.optical_frame,
                    settings.jpeg_quality, wants, item.camera_tf_parent, spec.topics))
                stats.published += 1
                stats.publish_times.append(time.monotonic())
            except Exception as e:
                self._throttled.log(logging.ERROR, type(e).__name__,
                                    "publishing a frame failed: %s: %s", type(e).__name__, e)
