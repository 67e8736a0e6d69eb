"""Display: one kind of thing drawn under the TF frame groups, as an rviz display is.

The scene model (scene_model.py) composes the frame layout (frame_layout.py:
the ``tf:<frame>`` groups) with displays: the markers (marker_display.py), the
robot model (robot_display.py), and any added with ``SceneModel.add_display``
(point clouds, laser scans, maps, paths, poses, odometry, ...). A display takes
its own messages through its own ``on_*`` methods (called by whoever subscribes,
on the thread that owns the model), keeps what it shows, and hangs its elements
in frame groups. The scene model calls it at fixed moments:

    moment                                   hook
    a frame group is built (ADD or SET)      elements_in(frame): its elements there,
                                             shown from now on
    frame groups are about to be added       leaving(frames): keys of shown elements
                                             that move into them, REMOVEd first
    frame groups left the browser            dropped(frames): its elements went with them
    the frame layout changed, or a SET       frames_changed(whole_scene)
    was built
    a SET is about to be built               forget_shown()
    a drain                                  settle(force), then emit(events): its
                                             REMOVE / UPDATE / UPSERT since the last drain
    the clock moves                          advance(now_ns)
    the fixed frame changes (a SET follows)  fixed_frame_changed()
    a viewer's panel asks what it draws      key_prefixes(): keys.owner_prefix of each
                                             part it can hide (vuer_ros/view/status.py)

A display of one topic sets ``topic``; one without (markers, the robot) leaves it None.

Every hook does nothing by default, so a display writes only what it needs;
a small one is its ``on_*`` input plus ``elements_in``, ``dropped``,
``forget_shown`` and ``emit``::

    class Poses(Display):                      # one element per frame
        def __init__(self, frames, problems):
            super().__init__(frames, problems)
            self.latest: dict[str, Element] = {}    # frame -> element
            self.shown: set[str] = set()            # frames whose element the browser has
            self.dirty: dict[str, None] = {}
        def on_pose(self, msg): ...                 # latest[frame] = element; dirty[frame]
        def elements_in(self, frame):
            if frame not in self.latest:
                return []
            self.shown.add(frame)
            return [self.latest[frame]]
        def dropped(self, frames): self.shown -= frames
        def forget_shown(self): self.shown.clear(); self.dirty.clear()
        def emit(self, events):
            for frame in self.dirty:
                if frame in self.frames.shown:
                    events.append(Upsert(self.latest[frame], to=frame_key(frame), strict=True))
                    self.shown.add(frame)
            self.dirty.clear()

It reads the frames through ``self.frames`` (FrameLayout: ``fixed``, ``shown``,
``tf``, ``version``), reports bad input through ``self.problems`` (once per
cause), and keys its elements with its own prefix (keys.py), never ``tf:``.
"""

from __future__ import annotations

from typing import AbstractSet, Sequence

from ..protocol.elements import Element
from ..protocol.events import ServerEvent
from .frame_layout import FrameLayout
from .problems import ProblemLog


class Display:
    topic: str | None = None     # the one topic it shows (None: not one topic)

    def __init__(self, frames: FrameLayout, problems: ProblemLog):
        self.frames = frames
        self.problems = problems

    def key_prefixes(self) -> list[str]:
        """The key prefixes of what it draws (keys.owner_prefix), for a viewer's panel to
        find its elements; none: it draws nothing a panel can hide."""
        return []

    def advance(self, now_ns: int) -> None:
        """The clock moved to ``now_ns`` (lifetimes, waiting for TF, timeouts)."""

    def fixed_frame_changed(self) -> None:
        """The fixed frame changed; a SET of the whole scene follows."""

    def settle(self, force: bool) -> None:
        """Before a drain (``force`` False) or a SET (True): catch up with TF
        (place what waited for a transform)."""

    def load(self, restructure: bool) -> int:
        """About how many elements the next drain builds (``restructure``: the
        frame layout changes too); a big drain pauses the cyclic GC (gc_pause.py)."""
        return 0

    def elements_in(self, frame: str) -> list[Element]:
        """The elements to put in ``frame``'s group, which is being built (a new
        subtree's ADD or the SET); the browser has them from now on."""
        return []

    def leaving(self, frames: Sequence[str]) -> list[str]:
        """Keys of shown elements that now belong in these frame groups, about to
        be added: they are REMOVEd from where they are first."""
        return []

    def dropped(self, frames: AbstractSet[str]) -> None:
        """These frame groups left the browser, and the elements in them."""

    def frames_changed(self, whole_scene: bool) -> None:
        """The frame groups were brought to the TF layout (``whole_scene``: by a SET)."""

    def forget_shown(self) -> None:
        """The whole scene is rebuilt (a SET, from ``elements_in``): the browser
        has nothing of this display until then."""

    def emit(self, events: list[ServerEvent]) -> None:
        """Append the events that bring the browser's elements of this display from
        the last drain to now, into frame groups it has (``frames.shown``)."""
