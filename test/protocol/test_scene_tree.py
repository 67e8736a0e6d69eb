"""SceneTree applies scene events exactly as the browser does."""

import numpy as np

from vuer_ros.protocol import Add, Remove, SceneTree, Set, Update, Upsert, decode, encode
from vuer_ros.protocol.elements import Box, DefaultScene, Group, PointCloud, Sphere


def tree_with(*children):
    tree = SceneTree()
    assert tree.apply(Set(DefaultScene(*children)).to_wire()) == []
    return tree


def test_set_indexes_children_and_background():
    tree = tree_with(Group(Box(key="box"), key="base_link"))
    assert tree.parent_key("box") == "base_link"
    assert tree.parent_key("base_link") == "scene"
    assert "DEFAULT" in tree  # the GrabRender target lives in bgChildren
    assert tree.snapshot()["up"] == [0, 0, 1]


def test_update_merges_props_and_reports_unknown_keys():
    tree = tree_with(Box(key="box", args=[1, 2, 3], material={"color": "red"}))
    problems = tree.apply(Update(Box(key="box", position=[1, 2, 3]), Box(key="ghost")).to_wire())
    assert problems == ["UPDATE: no node with key 'ghost'"]
    node = tree.get("box")
    assert node["position"] == [1, 2, 3] and node["args"] == [1, 2, 3]


def test_strict_update_replaces_props():
    tree = tree_with(Box(key="box", args=[1, 2, 3], position=[1, 1, 1]))
    tree.apply(Update(Box(key="box", args=[4, 4, 4]), strict=True).to_wire())
    assert tree.get("box") == {"key": "box", "tag": "Box", "args": [4, 4, 4]}


def test_update_with_children_reindexes_subtree():
    tree = tree_with(Group(Box(key="old"), key="g"))
    tree.apply(Update(Group(Sphere(key="new"), key="g")).to_wire())
    assert "old" not in tree and tree.parent_key("new") == "g"


def test_add_under_parent_and_missing_parent():
    tree = tree_with(Group(key="g"))
    assert tree.apply(Add(Box(key="b"), to="g").to_wire()) == []
    assert tree.parent_key("b") == "g"
    assert tree.apply(Add(Box(key="c"), to="nope").to_wire()) == ["ADD: no parent with key 'nope'"]
    assert "c" not in tree


def test_add_existing_key_replaces_instead_of_duplicating():
    tree = tree_with(Group(key="g"), Box(key="b"))
    tree.apply(Add(Box(key="b", args=[2, 2, 2]), to="g").to_wire())
    assert tree.parent_key("b") == "g"
    assert [c["key"] for c in tree.snapshot()["children"]] == ["g"]


def test_upsert_updates_existing_and_adds_new():
    tree = tree_with(Box(key="b"))
    tree.apply(Upsert(Box(key="b", position=[0, 0, 1]), Sphere(key="s")).to_wire())
    assert tree.get("b")["position"] == [0, 0, 1]
    assert tree.parent_key("s") == "scene"


def test_remove_drops_subtree():
    tree = tree_with(Group(Group(Box(key="b"), key="child"), key="g"))
    n = len(tree)
    assert tree.apply(Remove("g").to_wire()) == []
    assert "child" not in tree and "b" not in tree and len(tree) == n - 3
    assert tree.apply(Remove("scene").to_wire()) == ["REMOVE: the scene root cannot be removed"]


def test_packed_arrays_travel_as_bin_and_round_trip():
    pts = np.arange(12, dtype=np.float64).reshape(4, 3)
    cols = np.array([[1.0, 0.0, 0.0]] * 4)
    wire = decode(encode(Set(DefaultScene(PointCloud(key="pc", vertices=pts, colors=cols)))))
    node = next(c for c in wire["data"]["children"] if c["key"] == "pc")
    assert np.frombuffer(node["vertices"], "<f4").tolist() == pts.flatten().tolist()
    assert np.frombuffer(node["colors"], "u1").reshape(4, 3)[:, 0].tolist() == [255] * 4


def test_floats_keep_double_precision():
    wire = decode(encode(Update(Box(key="b", position=[500000.123456, 0, 0]))))
    assert wire["data"]["nodes"][0]["position"][0] == 500000.123456
