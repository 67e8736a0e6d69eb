"""MarkerLists (scene/marker_list.py): with ``marker_lists`` the simple markers of one
frame group, namespace and type travel as one MarkerList node, and everything the
markers mean is kept: expanded back into per-marker nodes, the scene equals the one
the same messages build without lists, through random sequences of moves, edits,
type changes, translucency, deletes, lifetimes, frame changes and TF restructuring;
arrays decoded from CDR as columns (read without marker objects) build the same scene
as message objects; markers that only moved are one UPDATE of the list's poses."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
from scene_msgs import TS, Browser, MarkerArray, S, marker, tf, tf_msg
from test_scene_model import flatten

from vuer_ros.cdr import ArrayDecoder
from vuer_ros.scene import SceneModel
from vuer_ros.scene.keys import marker_list_key as list_key
from vuer_ros.scene.marker_list import expand


def expanded(node: dict[str, Any]) -> dict[str, Any]:
    """A wire-form tree with every MarkerList replaced by its markers' own nodes."""
    out = dict(node)
    for name in ("children", "bgChildren"):
        if name in node:
            kids: list[dict[str, Any]] = []
            for child in node[name]:
                kids += expand(child) if child.get("tag") == "MarkerList" else [expanded(child)]
            out[name] = kids
    return out


def rounded(value: Any) -> Any:
    """Floats to 6 decimals: list scales travel as float32."""
    if isinstance(value, float):
        return round(value, 6) + 0.0
    if isinstance(value, (list, tuple)):
        return [rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    return value


def same_scene(listed: dict[str, Any], plain: dict[str, Any]) -> bool:
    return rounded(flatten(expanded(listed))) == rounded(flatten(plain))


def lists_in(tree: dict[str, Any]) -> list[str]:
    return [k for k, (_, props) in flatten(tree).items() if props.get("tag") == "MarkerList"]


def test_a_moving_array_is_one_list_per_type_and_one_poses_update():
    model = SceneModel("map", marker_lists=True)
    b = Browser(model)

    def array(dx: float, z: float = 0.2) -> MarkerArray:
        return MarkerArray(markers=[marker(type=t, ns="m", id=i, xyz=(i + dx, 0.0, 0.0),
                                           scale=(0.2, 0.2, z)) for i, t in enumerate([1, 2, 3, 0, 1])])
    model.on_marker_array(array(0.0), S)
    b.sync()
    assert sorted(lists_in(b.tree.snapshot())) == sorted(list_key("map", "m", t) for t in (0, 1, 2, 3))
    cubes = b.node(list_key("map", "m", 1))
    assert b.parent(cubes["key"]) == "tf:map"
    assert np.frombuffer(cubes["ids"], "<i4").tolist() == [0, 4]
    assert np.frombuffer(cubes["poses"], "<f8").reshape(-1, 7)[:, 0].tolist() == [0.0, 4.0]
    assert np.frombuffer(cubes["colors"], np.uint8).reshape(-1, 4).tolist() == [[255, 0, 0, 255]] * 2
    assert [p["tag"] for p in b.node(list_key("map", "m", 0))["parts"]] == ["Cylinder", "Cone"]
    model.on_marker_array(array(0.0), S)
    assert b.sync() == []                     # re-sent unchanged: nothing
    model.on_marker_array(array(0.5), S)
    (ev,) = b.sync()                          # moved: only the poses of each list
    assert ev.etype == "UPDATE"
    assert all(set(n) == {"key", "poses"} for n in ev.data["nodes"]) and len(ev.data["nodes"]) == 4
    poses = np.frombuffer(b.node(cubes["key"])["poses"], "<f8").reshape(-1, 7)
    assert poses[:, 0].tolist() == [0.5, 4.5]
    model.on_marker_array(array(0.5, z=0.3), S)   # a geometry change: the lists again
    evs = b.sync()
    assert [e.etype for e in evs] == ["UPSERT"] and evs[0].data["strict"] is True
    assert flatten(b.tree.snapshot()) == flatten(model.initial_scene().to_wire())


def test_deletes_lifetimes_and_translucency_inside_a_list():
    model = SceneModel("map", marker_lists=True)
    b = Browser(model)
    model.on_marker_array(MarkerArray(markers=[
        marker(type=1, ns="a", id=i, xyz=(float(i), 0.0, 0.0), lifetime_ns=S if i == 3 else 0)
        for i in range(5)]), S)
    model.advance(S)
    b.sync()
    key = list_key("map", "a", 1)

    def ids():
        return np.frombuffer(b.node(key)["ids"], "<i4").tolist()
    assert ids() == [0, 1, 2, 3, 4]
    model.on_marker(marker(type=1, ns="a", id=1, action=2), S)          # DELETE one
    b.sync()
    assert ids() == [0, 2, 3, 4]
    model.advance(2 * S)                                                 # id 3's lifetime ends
    b.sync()
    assert ids() == [0, 2, 4]
    # translucent: drawn on its own (depth-sorted), out of the list; opaque again: back in
    model.on_marker(marker(type=1, ns="a", id=2, rgba=(1.0, 0.0, 0.0, 0.5)), 2 * S)
    b.sync()
    assert ids() == [0, 4] and b.node("marker:a:2#body")["material"]["opacity"] == 0.5
    model.on_marker(marker(type=1, ns="a", id=2), 2 * S)
    b.sync()
    assert ids() == [0, 4, 2] and b.node("marker:a:2") is None
    model.on_marker(marker(type=1, ns="a", action=3), 2 * S)             # DELETEALL of ns a
    (ev,) = b.sync()
    assert ev.etype == "REMOVE" and ev.data["keys"] == [key] and b.node(key) is None


def test_a_list_waits_for_its_frame_and_follows_it():
    model = SceneModel("map", marker_lists=True)
    b = Browser(model)
    model.on_marker(marker(type=2, ns="s", id=0, frame="arm", frame_locked=True), S)
    b.sync()
    assert b.node(list_key("arm", "s", 2)) is None          # no TF for arm yet: hidden
    model.on_tf(tf_msg(tf("map", "arm", (1.0, 0.0, 0.0), ns=S)))
    b.sync()
    assert b.parent(list_key("arm", "s", 2)) == "tf:arm"
    model.on_tf(tf_msg(tf("map", "base", ns=S), tf("base", "arm", (2.0, 0.0, 0.0), ns=S)))
    b.sync()                                                 # arm re-parented: its list with it
    assert b.parent(list_key("arm", "s", 2)) == "tf:arm" and b.parent("tf:arm") == "tf:base"
    assert flatten(b.tree.snapshot()) == flatten(model.initial_scene().to_wire())


@pytest.mark.parametrize("seed", range(10))
def test_random_sequences_expand_to_the_scene_without_lists(seed):
    rng = random.Random(seed)
    listed = SceneModel("map", marker_tf_timeout_ns=S, marker_lists=True)
    plain = SceneModel("map", marker_tf_timeout_ns=S)
    # and the arrays as the node gets them: CDR bytes decoded as columns (moved ones
    # sharing the previous decode), applied from the columns
    columns = SceneModel("map", marker_tf_timeout_ns=S, marker_lists=True)
    decoder = ArrayDecoder()
    models = (listed, plain, columns)
    bl, bp, bc = Browser(listed), Browser(plain), Browser(columns)

    def arrays(msg: MarkerArray, now: int) -> None:
        raw = TS.serialize_cdr(msg, "visualization_msgs/msg/MarkerArray")
        found = [m.on_marker_array(msg, now) for m in (listed, plain)]
        assert columns.on_marker_array(decoder.decode(raw), now) == found[0] == found[1]
    frames = ["map", "a", "b", "c"]
    now = S
    pose_updates = 0
    last: list[Any] = []
    for step in range(150):
        now += S // 20
        r = rng.random()
        if r < 0.15 and last:   # the last array again, every marker moved
            for m in last:
                m.pose.position.x += 0.1
            arrays(MarkerArray(markers=last), now)
        elif r < 0.3:   # TF: move, re-parent (restructure), or link a new frame
            child = rng.choice(frames[1:])
            parent = rng.choice([f for f in frames if f != child])
            msg = tf_msg(tf(parent, child, (rng.random(), 0.0, 0.0), ns=now))
            for m in models:
                m.on_tf(msg)
        elif r < 0.85:   # markers: mostly moves of the same ones
            markers = []
            for _ in range(rng.randrange(1, 8)):
                mtype = rng.choice([0, 1, 2, 3, 7, 9]) if rng.random() < 0.3 else rng.choice([1, 2])
                markers.append(marker(
                    type=mtype, ns=rng.choice(["p", "q"]), id=rng.randrange(8),
                    action=rng.choices([0, 2, 3], [0.9, 0.07, 0.03])[0],
                    frame=rng.choice(frames), frame_locked=rng.random() < 0.5,
                    stamp_ns=rng.choice([0, now]),
                    xyz=(rng.choice([0.0, 0.1, rng.random()]), 0.0, 0.0),
                    scale=(0.2, 0.2, rng.choice([0.2, 0.2, 0.3, -0.1])),
                    rgba=(1.0, 0.0, rng.choice([0.0, 1.0]), rng.choice([1.0, 1.0, 1.0, 0.0, 0.5])),
                    lifetime_ns=rng.choice([0, 0, S // 4]),
                    points=[(0.0, 0.0, 0.0), (0.1, 0.0, 0.0)] if mtype == 7 else (), text="t"))
            last = markers
            arrays(MarkerArray(markers=markers), now)
        elif r < 0.9:
            fixed = rng.choice(["map", "a"])
            for m in models:
                m.set_fixed_frame(fixed)
        for m in models:
            m.advance(now)
        for ev in bl.sync():
            if ev.etype == "UPDATE":
                pose_updates += sum("poses" in n for n in ev.data["nodes"])
        bp.sync()
        bc.sync()
        assert flatten(bc.tree.snapshot()) == flatten(bl.tree.snapshot()), f"step {step}"
        assert flatten(bl.tree.snapshot()) == flatten(listed.initial_scene().to_wire()), f"step {step}"
        assert flatten(bc.tree.snapshot()) == flatten(columns.initial_scene().to_wire()), f"step {step}"
        assert same_scene(bl.tree.snapshot(), bp.tree.snapshot()), f"step {step}"
        assert len(listed.markers) == len(plain.markers) == len(columns.markers)
    assert pose_updates > 0 and lists_in(bl.tree.snapshot())


def test_the_same_markers_moved_are_moved_in_place_and_emit_the_same():
    """An array decoded as columns whose markers only moved moves their records in place
    (no new record per marker) and sends what applying it anew sends: one poses UPDATE
    per list; unchanged, nothing; a bad pose, or a marker replaced meanwhile, takes the
    full path (which reports it)."""
    decoder = ArrayDecoder()
    moved = SceneModel("map", marker_lists=True)
    fresh = SceneModel("map", marker_lists=True)
    bm, bf = Browser(moved), Browser(fresh)

    def send(dx: float, qw: float = 1.0) -> tuple[list[Any], list[Any]]:
        msg = MarkerArray(markers=[marker(type=t, ns="m", id=i, xyz=(i + dx, 0.0, 0.0), q=(0.0, 0.0, 0.0, qw),
                                          text="x") for i, t in enumerate([1, 2, 9, 0, 3, 1])])
        raw = TS.serialize_cdr(msg, "visualization_msgs/msg/MarkerArray")
        found = moved.on_marker_array(decoder.decode(raw), S), \
            fresh.on_marker_array(ArrayDecoder().decode(raw), S)
        assert found[0] == found[1]
        return bm.sync(), bf.sync()

    send(0.0)
    records = [moved.markers.get(("m", i)) for i in range(6)]
    a, b = send(0.5)
    assert [moved.markers.get(("m", i)) for i in range(6)] == records   # the same objects
    assert all(x is y for x, y in zip((moved.markers.get(("m", i)) for i in range(6)), records))
    assert [e.to_wire()["data"] for e in a] == [e.to_wire()["data"] for e in b]
    assert [e.etype for e in a] == ["UPDATE"] and all(set(n) == {"key", "poses"} for n in a[0].data["nodes"])
    assert send(0.5) == ([], [])                                          # unchanged: nothing
    moved.on_marker(marker(type=1, ns="m", id=5, xyz=(9.0, 0.0, 0.0)), S)  # replaced meanwhile
    fresh.on_marker(marker(type=1, ns="m", id=5, xyz=(9.0, 0.0, 0.0)), S)
    a, b = send(0.7)
    assert flatten(bm.tree.snapshot()) == flatten(bf.tree.snapshot())
    a, b = send(0.9, qw=2.0)                                              # not a unit quaternion
    assert flatten(bm.tree.snapshot()) == flatten(bf.tree.snapshot())
    assert flatten(bm.tree.snapshot()) == flatten(moved.initial_scene().to_wire())
