"""A marker re-sent with the same geometry and only a new pose is sent as one
pose UPDATE of its group (no rebuilt subtree), and the scene built from the
events stays equal to a fresh full scene through random sequences of moves,
edits, type changes, deletes, frame changes and TF restructuring."""

from __future__ import annotations

import random

import pytest
from scene_msgs import Browser, MarkerArray, S, marker, tf, tf_msg
from test_scene_model import flatten

from vuer_ros.scene import SceneModel

TYPES = (1, 2, 3, 0, 9, 7, 4, 8)   # cube sphere cylinder arrow text sphere_list line_strip points


def moving_array(dx: float, z: float = 0.2) -> MarkerArray:
    return MarkerArray(markers=[
        marker(type=t, ns="m", id=i, frame="map", xyz=(i + dx, 0.0, 0.0), scale=(0.2, 0.2, z),
               text="hi", points=[(0.0, 0.0, 0.0), (0.1, 0.0, 0.0)] if t in (7, 4, 8) else (),
               colors=[(1.0, 0.0, 0.0, 1.0)] * 2 if t == 8 else ())
        for i, t in enumerate(TYPES)])


def matches_fresh_scene(b: Browser) -> bool:
    return flatten(b.tree.snapshot()) == flatten(b.model.initial_scene().to_wire())


def test_a_moving_marker_array_becomes_one_pose_update():
    model = SceneModel("map")
    b = Browser(model)
    model.on_marker_array(moving_array(0.0), S)
    b.sync()
    model.on_marker_array(moving_array(0.0), S)
    assert b.sync() == []
    model.on_marker_array(moving_array(0.5), S)
    (ev,) = b.sync()
    assert ev.etype == "UPDATE"
    nodes = ev.data["nodes"]
    assert [n["key"] for n in nodes] == [f"marker:m:{i}" for i in range(len(TYPES))]
    for i, n in enumerate(nodes):
        assert set(n) == {"key", "position", "quaternion"}
        assert n["position"] == [i + 0.5, 0.0, 0.0] and n["quaternion"] == [0.0, 0.0, 0.0, 1.0]
        assert b.node(n["key"])["position"] == [i + 0.5, 0.0, 0.0]
    assert matches_fresh_scene(b)
    # a geometry change (scale) rebuilds, as before
    model.on_marker_array(moving_array(0.5, z=0.3), S)
    evs = b.sync()
    assert [e.etype for e in evs] == ["UPSERT"] and evs[0].data["strict"] is True
    assert matches_fresh_scene(b)


def test_a_moved_frame_locked_marker_follows_its_frame_with_a_pose_update():
    model = SceneModel("map")
    b = Browser(model)
    model.on_tf(tf_msg(tf("map", "base", (1.0, 0.0, 0.0), ns=S)))
    model.on_marker(marker(type=1, id=1, frame="base", frame_locked=True), S)
    b.sync()
    model.on_marker(marker(type=1, id=1, frame="base", frame_locked=True, xyz=(0.0, 2.0, 0.0)), S)
    (ev,) = b.sync()
    assert ev.etype == "UPDATE" and ev.data["nodes"][0]["position"] == [0.0, 2.0, 0.0]
    assert b.parent("marker:test:1") == "tf:base"
    # another frame: it moves to that frame's group (not a pose update)
    model.on_marker(marker(type=1, id=1, frame="map", frame_locked=True, xyz=(0.0, 2.0, 0.0)), S)
    evs = b.sync()
    assert "UPDATE" not in [e.etype for e in evs]
    assert b.parent("marker:test:1") == "tf:map"
    assert matches_fresh_scene(b)


@pytest.mark.parametrize("seed", range(8))
def test_random_sequences_build_the_same_scene_as_a_fresh_one(seed):
    rng = random.Random(seed)
    model = SceneModel("map", marker_tf_timeout_ns=S)
    b = Browser(model)
    frames = ["map", "a", "b", "c"]
    now = S
    pose_updates = 0
    for step in range(150):
        now += S // 20
        r = rng.random()
        if r < 0.25:   # TF: move, re-parent (restructure), or link a new frame
            child = rng.choice(frames[1:])
            parent = rng.choice([f for f in frames if f != child])
            model.on_tf(tf_msg(tf(parent, child, (rng.random(), 0.0, 0.0), ns=now)))
        elif r < 0.85:   # markers: mostly moves of the same ones
            markers = []
            for _ in range(rng.randrange(1, 6)):
                mtype = rng.choice([1, 1, 1, 2, 7, 9]) if rng.random() < 0.2 else 1
                markers.append(marker(
                    type=mtype, ns=rng.choice(["p", "q"]), id=rng.randrange(6),
                    action=rng.choices([0, 2, 3], [0.9, 0.07, 0.03])[0],
                    frame=rng.choice(frames), frame_locked=rng.random() < 0.5,
                    xyz=(rng.choice([0.0, 0.1, rng.random()]), 0.0, 0.0),
                    scale=(0.2, 0.2, rng.choice([0.2, 0.2, 0.3])),
                    rgba=(1.0, 0.0, rng.choice([0.0, 0.0, 1.0]), rng.choice([1.0, 1.0, 0.0])),
                    points=[(0.0, 0.0, 0.0), (0.1, 0.0, 0.0)] if mtype == 7 else (), text="t"))
            model.on_marker_array(MarkerArray(markers=markers), now)
        elif r < 0.9:
            model.set_fixed_frame(rng.choice(["map", "a"]))
        model.advance(now)
        for ev in b.sync():
            if ev.etype == "UPDATE":
                pose_updates += sum(str(n["key"]).startswith("marker:") for n in ev.data["nodes"])
        assert matches_fresh_scene(b), f"step {step}"
    assert pose_updates > 0
