"""FrameLayout: the TF frame groups of the scene, re-rooted at the fixed frame.

It takes TF messages into the TF buffer (tf_tree.py) and decides which frames
the browser shows and under which parent::

    Group tf:<fixed>                   at the world origin
      Group tf:<child>                 pose = latest transform parent <- child
        Group tf:<grandchild> ...
      Group tf:<parent of fixed>       pose = the inverse of fixed <- parent

- The tree is re-rooted at the fixed frame: a frame above it (``map`` when the
  fixed frame is ``odom``) hangs under its child with the inverse transform.
  Every group's pose depends on exactly one TF link, so one link update is one
  UPDATE of one group's position and quaternion; several updates of a link
  between two drains coalesce into one.
- Each group shows its link's newest value. rviz draws a frame at the latest
  time common to its whole chain; the two differ only while a slower link in
  the chain has not caught up (at most that link's publish period).
- Frames that cannot reach the fixed frame are not shown (nor what hangs under
  them); they are reported once per disconnected tree. A re-parented frame
  moves: REMOVE of its group, ADD of its subtree under the new parent.
- What hangs in the groups belongs to the displays (display.py); building a
  group asks each display for its elements there.

Frame ids enter here from TF messages, through frame_id.py's rule, once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Sequence

from ..protocol.elements import Element, Group
from ..protocol.events import Add, Remove, ServerEvent, Update
from .errors import TfRejectedError
from .frame_id import frame_id
from .keys import frame_key
from .msg_fields import stamp_ns, transform_of
from .problems import ProblemLog, name_list
from .tf_tree import TfTree, TfUpdate
from .transform import IDENTITY, Transform

if TYPE_CHECKING:
    from .display import Display


class FrameLayout:
    def __init__(self, tf: TfTree, fixed: str, problems: ProblemLog):
        self.tf = tf
        self.fixed = fixed                       # a tf2 frame id (frame_id.py applied)
        self.problems = problems
        # frame -> its parent frame in the scene, as the browser has them (after the
        # last drain or SET); the fixed frame's parent is None
        self.shown: dict[str, str | None] = {}
        # counts TF input (older data too: it can place a waiting marker) and fixed
        # frame changes; what is memoised from TF lookups is valid while it holds
        self.version = 0
        self.structure_dirty = True              # a link was made or re-parented
        self._pose_dirty: dict[str, None] = {}   # TF links (child frames) moved
        self._unreachable_roots: set[str] = set()
        # frames whose transforms are not taken in: the viewer's own render camera, which
        # it publishes and hears back (a frame of the image, not of the scene)
        self.ignored: frozenset[str] = frozenset()

    def set_fixed(self, frame: str) -> None:
        """A new fixed frame (a tf2 frame id); the scene is rebuilt by a SET."""
        self.fixed = frame
        self.version += 1

    # -- input ----------------------------------------------------------------------------
    def on_tf(self, msg: Any, static: bool) -> list[str]:
        """A tf2_msgs/TFMessage; returns the problems found (each logged once per cause)."""
        found: list[str] = []
        for t in msg.transforms:
            header = t.header
            parent = frame_id(str(header.frame_id))
            child = frame_id(str(t.child_frame_id))
            if child in self.ignored:
                continue
            try:
                update = self.tf.insert(parent, child, transform_of(t.transform),
                                        stamp_ns(header.stamp), static)
            except TfRejectedError as e:
                found.append(str(e))
                self.problems.report(("tf", child), e.kind, str(e))
                continue
            self.version += 1
            if update is TfUpdate.OLDER:
                continue
            self._pose_dirty[child] = None
            if update is TfUpdate.LINKED:
                self.structure_dirty = True
        return found

    # -- the layout ---------------------------------------------------------------------------
    def layout(self) -> dict[str, str | None]:
        """Every frame that reaches the fixed frame -> its parent in the scene,
        in breadth-first order from the fixed frame (parents before children)."""
        parents = self.tf.parents
        children: dict[str, list[str]] = {}
        for c, p in parents.items():
            children.setdefault(p, []).append(c)
        fixed = self.fixed
        layout: dict[str, str | None] = {fixed: None}
        queue = [fixed]
        for frame in queue:   # grows while iterating: breadth-first
            for c in children.get(frame, ()):
                if c not in layout:
                    layout[c] = frame
                    queue.append(c)
            up = parents.get(frame)
            if up is not None and up not in layout:
                layout[up] = frame
                queue.append(up)
        return layout

    def scene_pose(self, frame: str, scene_parent: str | None) -> Transform:
        """Pose of ``frame``'s group inside its scene parent's group."""
        if scene_parent is None:
            return IDENTITY
        edge = self.tf.edge(frame)
        if edge is not None and edge.parent == scene_parent:
            return edge.transform
        up = self.tf.edge(scene_parent)   # the link runs the other way: invert it
        assert up is not None and up.parent == frame
        return up.transform.inverse()

    # -- output ---------------------------------------------------------------------------------
    def build(self, frames: Iterable[str], layout: dict[str, str | None],
              displays: Sequence[Display]) -> list[tuple[Element, str | None]]:
        """Groups for ``frames`` (parents listed before children), nested, each
        holding its displays' elements (in the order of ``displays``); returns the
        top groups with their scene parents."""
        groups: dict[str, Element] = {}
        tops: list[tuple[Element, str | None]] = []
        for f in frames:
            parent = layout[f]
            pose = self.scene_pose(f, parent)
            g = Group(key=frame_key(f), position=pose.position_list,
                      quaternion=pose.quaternion_list)
            groups[f] = g
            if parent in groups:
                groups[parent].children.append(g)
            else:
                tops.append((g, parent))
        for f, g in groups.items():
            for display in displays:
                g.children.extend(display.elements_in(f))
        return tops

    def restructure(self, events: list[ServerEvent], displays: Sequence[Display]) -> set[str]:
        """Bring the frame groups to the current layout: REMOVE moved or lost
        subtrees, ADD new ones. Returns the frames added (their poses are fresh)."""
        self.structure_dirty = False
        layout = self.layout()
        shown = self.shown
        children: dict[str, list[str]] = {}
        for f, p in shown.items():
            if p is not None:
                children.setdefault(p, []).append(f)
        gone: set[str] = set()
        removed_tops: list[str] = []
        for f, p in list(shown.items()):
            if f not in gone and (f not in layout or layout[f] != p):
                removed_tops.append(f)
                stack = [f]
                while stack:   # the browser drops the whole subtree
                    g = stack.pop()
                    gone.add(g)
                    stack.extend(children.get(g, ()))
        # a removed top inside another removed subtree is removed with it
        removed = [frame_key(f) for f in removed_tops if shown[f] not in gone]
        for f in gone:
            del shown[f]
        if gone:
            for display in displays:
                display.dropped(gone)
        new = [f for f in layout if f not in shown]
        if new:
            for display in displays:
                removed.extend(display.leaving(new))
        if removed:
            events.append(Remove(*removed))
        if new:
            tops = self.build(new, layout, displays)
            by_parent: dict[str | None, list[Element]] = {}
            for top, parent in tops:
                by_parent.setdefault(parent, []).append(top)
            for parent, nodes in by_parent.items():
                events.append(Add(*nodes, to=frame_key(parent) if parent is not None else None))
            for f in new:
                shown[f] = layout[f]
        self.report_unreachable(layout)
        for display in displays:
            display.frames_changed(False)
        return set(new)

    def scene_root(self, layout: dict[str, str | None], displays: Sequence[Display]) -> Element:
        """The fixed frame's group with every shown frame and its displays' elements,
        for a SET; the browser has this layout from now on."""
        (root, _), = self.build(list(layout), layout, displays)
        self.shown = dict(layout)
        self.structure_dirty = False
        self._pose_dirty.clear()
        return root

    def emit_poses(self, events: list[ServerEvent], added: set[str]) -> None:
        """One UPDATE of the shown groups whose link moved (not those just ``added``)."""
        if not self._pose_dirty:
            return
        nodes = []
        shown = self.shown
        for child in self._pose_dirty:
            edge = self.tf.edge(child)
            if edge is None:
                continue
            if shown.get(child, "") == edge.parent and child not in added:
                key, pose = frame_key(child), edge.transform
            elif edge.parent in shown and shown[edge.parent] == child and edge.parent not in added:
                key, pose = frame_key(edge.parent), edge.transform.inverse()
            else:
                continue
            nodes.append({"key": key, "position": pose.position_list,
                          "quaternion": pose.quaternion_list})
        self._pose_dirty.clear()
        if nodes:
            events.append(Update(*nodes))

    # -- reports ------------------------------------------------------------------------------
    def report_unreachable(self, layout: dict[str, str | None]) -> None:
        """Report each TF tree that cannot reach the fixed frame, once; resolve the
        reports of trees that connected."""
        trees: dict[str, list[str]] = {}
        parents = self.tf.parents
        linked = set(parents.values())   # frames with a child by the latest links
        for f in self.tf.frames:
            # a name no latest link uses (a parent whose children all moved away, such as
            # an old fixed frame the viewer's camera hung under) is no tree to connect
            if f not in layout and (f in parents or f in linked):
                trees.setdefault(self.tf.root(f), []).append(f)
        for root in self._unreachable_roots - set(trees):
            self.problems.resolve(("tf-tree", root))
        for root, frames in trees.items():
            frames.sort()
            self.problems.report(
                ("tf-tree", root), "unreachable",
                f"tf: frames {name_list(frames)} (tree rooted at '{root}') have no connection "
                f"to the fixed frame '{self.fixed}'; they and their markers are hidden until one "
                "is published")
        self._unreachable_roots = set(trees)
