"""The seam for new displays: a small Display added to a SceneModel hangs its
elements in TF frame groups, follows the frames as they appear, move and come
back, and is in the SET; checked by applying the events to a SceneTree."""

import pytest
from scene_msgs import Browser, S, tf, tf_msg
from test_scene_model import assert_browser_matches_model

from vuer_ros.protocol.elements import Element, Sphere
from vuer_ros.protocol.events import ServerEvent, Upsert
from vuer_ros.scene import Display, SceneModel, frame_id, frame_key
from vuer_ros.scene.frame_layout import FrameLayout
from vuer_ros.scene.problems import ProblemLog


class Dots(Display):
    """One dot per frame, at the frame's origin (a pose display in miniature)."""

    def __init__(self, frames: FrameLayout, problems: ProblemLog):
        super().__init__(frames, problems)
        self.latest: dict[str, Element] = {}
        self.dirty: dict[str, None] = {}

    def on_dot(self, frame: str, radius: float) -> None:
        frame = frame_id(frame)
        self.latest[frame] = Sphere(key=f"dot:{frame}", args=[radius])
        self.dirty[frame] = None

    def elements_in(self, frame: str) -> list[Element]:
        self.dirty.pop(frame, None)
        return [self.latest[frame]] if frame in self.latest else []

    def forget_shown(self) -> None:
        self.dirty.clear()

    def emit(self, events: list[ServerEvent]) -> None:
        for frame in self.dirty:
            if frame in self.frames.shown:
                events.append(Upsert(self.latest[frame], to=frame_key(frame), strict=True))
        self.dirty.clear()


def test_a_display_hangs_its_elements_in_frame_groups():
    model = SceneModel("map")
    dots = model.add_display(Dots(model.frames, model.problems))
    b = Browser(model)
    model.on_tf(tf_msg(tf("map", "odom", (1, 0, 0), ns=S)))
    dots.on_dot("/odom", 0.1)
    dots.on_dot("base_link", 0.2)          # no such frame yet: kept, not sent
    (ev,) = b.sync()
    assert ev.etype == "SET"
    assert b.parent("dot:odom") == "tf:odom" and b.node("dot:base_link") is None

    dots.on_dot("odom", 0.3)                # new data: one UPSERT into the shown group
    (ev,) = b.sync()
    assert ev.etype == "UPSERT" and ev.data["to"] == "tf:odom"
    assert b.node("dot:odom")["args"] == [0.3]

    model.on_tf(tf_msg(tf("odom", "base_link", (0, 1, 0), ns=S)))   # the frame appears
    b.sync()
    assert b.parent("dot:base_link") == "tf:base_link"
    assert_browser_matches_model(b)

    model.on_tf(tf_msg(tf("map", "base_link", (0, 2, 0), ns=2 * S)))   # re-parented
    events = b.sync()
    assert [e.etype for e in events] == ["REMOVE", "ADD"]
    assert b.parent("tf:base_link") == "tf:map" and b.parent("dot:base_link") == "tf:base_link"
    assert_browser_matches_model(b)


def test_a_display_built_on_another_model_is_refused():
    a, b = SceneModel("map"), SceneModel("map")
    with pytest.raises(ValueError, match="this model's frames and problems"):
        a.add_display(Dots(b.frames, b.problems))
