"""SceneModel with a robot description: each URDF link's visuals hang under that
link's TF group (origins, sizes, colours, meshes), move with TF, and are replaced
by a new description; checked by applying the events to a SceneTree."""

import logging
from pathlib import Path

import pytest
from meshes import binary_stl
from scene_msgs import TS, Browser, S, tf, tf_msg

from vuer_ros.scene.mesh_resolver import MeshResolver
from vuer_ros.scene import SceneModel

LOGGER = "vuer_ros.scene"
String = TS.types["std_msgs/msg/String"]

ARM = """<?xml version="1.0"?>
<robot name="arm">
  <material name="blue"><color rgba="0 0 1 1"/></material>
  <link name="base_link">
    <visual>
      <origin xyz="0 0 0.05" rpy="0 0 1.5707963267948966"/>
      <geometry><box size="0.4 0.2 0.1"/></geometry>
      <material name="blue"/>
    </visual>
  </link>
  <link name="upper">
    <visual>
      <origin xyz="0 0 0.25"/>
      <geometry><cylinder radius="0.05" length="0.5"/></geometry>
      <material name="green"><color rgba="0 1 0 0.5"/></material>
    </visual>
  </link>
  <link name="hand">
    <visual><geometry><sphere radius="0.08"/></geometry></visual>
    <visual>
      <origin xyz="0.1 0 0"/>
      <geometry><mesh filename="MESH" scale="0.1 0.2 0.3"/></geometry>
      <material name="blue"/>
    </visual>
  </link>
  <link name="tool0"/>
  <joint name="j1" type="revolute"><parent link="base_link"/><child link="upper"/>
    <limit lower="-1" upper="1" effort="1" velocity="1"/></joint>
  <joint name="j2" type="fixed"><parent link="upper"/><child link="hand"/></joint>
  <joint name="j3" type="fixed"><parent link="hand"/><child link="tool0"/></joint>
</robot>
"""


@pytest.fixture
def meshes(tmp_path):
    root = tmp_path / "meshes"
    binary_stl(root / "hand.stl")
    mounts = []

    def mount(name, folder):
        mounts.append((name, Path(folder)))
        return f"/files/{name}/"
    return root, MeshResolver(mount, [root]), mounts


def arm(mesh_uri: str) -> str:
    return ARM.replace("MESH", mesh_uri)


def connect_tf(model, *, upper_angle_q=(0.0, 0.0, 0.0, 1.0)):
    model.on_tf(tf_msg(tf("map", "base_link", (1.0, 0.0, 0.0)),
                       tf("base_link", "upper", (0.0, 0.0, 0.1), upper_angle_q)))
    model.on_tf(tf_msg(tf("upper", "hand", (0.0, 0.0, 0.5)), tf("hand", "tool0", (0.1, 0, 0))),
                static=True)


@pytest.fixture
def shown(meshes):
    root, resolver, mounts = meshes
    model = SceneModel("map", resolve_mesh=resolver)
    b = Browser(model)
    assert model.set_robot_description(arm((root / "hand.stl").as_uri()), "/robot_description") == []
    connect_tf(model)
    b.sync()
    return model, b


def flatten(node, parent=None, out=None):
    out = {} if out is None else out
    out[node["key"]] = (parent, {k: v for k, v in node.items() if k not in ("children", "bgChildren")})
    for name in ("children", "bgChildren"):
        for child in node.get(name, ()):
            flatten(child, node["key"], out)
    return out


def assert_browser_matches_model(b):
    assert flatten(b.tree.snapshot()) == flatten(b.model.initial_scene().to_wire())


# -- elements ------------------------------------------------------------------------------------------
def test_each_links_visuals_hang_under_its_tf_group(shown):
    model, b = shown
    assert b.parent("robot:base_link") == "tf:base_link"
    assert b.parent("robot:upper") == "tf:upper"
    assert b.parent("robot:hand") == "tf:hand"
    assert b.node("robot:tool0") is None               # no visuals: no group
    assert b.parent("robot:hand#visual1") == "robot:hand"
    assert b.parent("robot:hand#visual1#body") == "robot:hand#visual1"
    assert model.robot.name == "arm" and model.robot.source == "/robot_description"


def test_visual_origins_sizes_and_colours_are_rvizs(shown):
    _, b = shown
    base = b.node("robot:base_link#visual0")
    assert base["position"] == pytest.approx([0, 0, 0.05])
    assert base["quaternion"] == pytest.approx([0, 0, 0.7071068, 0.7071068])
    box = b.node("robot:base_link#visual0#body")
    assert box["tag"] == "Box" and box["args"] == pytest.approx([0.4, 0.2, 0.1])
    assert box["material"] == {"color": "#0000ff", "opacity": 1.0, "transparent": False}

    assert b.node("robot:upper#visual0")["position"] == pytest.approx([0, 0, 0.25])
    cyl = b.node("robot:upper#visual0#body")
    # three.js cylinders stand on Y: turned +90 deg about X, scale (diameter, length, diameter)
    assert cyl["tag"] == "Cylinder" and cyl["args"][:3] == [0.5, 0.5, 1.0]
    assert cyl["quaternion"] == pytest.approx([0.7071068, 0, 0, 0.7071068])
    assert cyl["scale"] == pytest.approx([0.1, 0.5, 0.1])
    assert cyl["material"] == {"color": "#00ff00", "opacity": 0.5, "transparent": True}

    sphere = b.node("robot:hand#visual0#body")
    assert sphere["tag"] == "Sphere" and sphere["args"][0] == 0.5
    assert sphere["scale"] == pytest.approx([0.16, 0.16, 0.16])
    assert sphere["material"]["color"] == "#ff0000"     # no material anywhere: rviz's red


def test_meshes_are_served_from_their_allowed_root_with_scale_and_colour(shown, meshes):
    _, b = shown
    _, _, mounts = meshes
    stl = b.node("robot:hand#visual1#body")
    assert stl["tag"] == "Stl"
    assert stl["src"] == "/files/root0/hand.stl"
    assert stl["scale"] == pytest.approx([0.1, 0.2, 0.3])
    assert stl["material"]["color"] == "#0000ff"
    assert b.node("robot:hand#visual1")["position"] == pytest.approx([0.1, 0, 0])
    assert [name for name, _ in mounts] == ["root0"]


def test_dae_and_glb_keep_their_own_materials_stl_and_obj_take_the_urdf_colour(meshes):
    root, resolver, _ = meshes
    for name in ("a.dae", "b.glb", "c.obj"):
        (root / name).write_text("x")
    model = SceneModel("map", resolve_mesh=resolver)
    urdf = ('<robot name="m"><link name="base_link">'
            + "".join(f'<visual><geometry><mesh filename="{(root / n).as_uri()}"/></geometry></visual>'
                      for n in ("a.dae", "b.glb", "c.obj", "hand.stl"))
            + "</link></robot>")
    assert model.set_robot_description(urdf) == []
    model.on_tf(tf_msg(tf("map", "base_link")))
    b = Browser(model)
    b.sync()
    tags = {b.node(f"robot:base_link#visual{i}#body")["tag"]: b.node(f"robot:base_link#visual{i}#body")
            for i in range(4)}
    assert {t: n["useEmbeddedMaterials"] for t, n in tags.items()} == \
        {"Dae": True, "Glb": True, "Obj": False, "Stl": False}


# -- TF -------------------------------------------------------------------------------------------------
def test_the_robot_moves_with_tf_as_one_group_update(shown):
    model, b = shown
    model.on_tf(tf_msg(tf("base_link", "upper", (0, 0, 0.1), (0.0, 0.0, 0.3826834, 0.9238795), ns=2 * S)))
    events = b.sync()
    assert [e.etype for e in events] == ["UPDATE"]
    (node,) = events[0].data["nodes"]
    assert node["key"] == "tf:upper"


def test_links_without_tf_are_hidden_then_appear_with_their_visuals(meshes, caplog):
    root, resolver, _ = meshes
    model = SceneModel("map", resolve_mesh=resolver, marker_tf_timeout_ns=2 * S)
    b = Browser(model)
    model.set_robot_description(arm((root / "hand.stl").as_uri()))
    model.on_tf(tf_msg(tf("map", "base_link", (1.0, 0.0, 0.0))))
    model.advance(1 * S)
    b.sync()
    assert b.parent("robot:base_link") == "tf:base_link"
    assert b.node("robot:upper") is None
    caplog.set_level(logging.WARNING, LOGGER)
    model.advance(2 * S)
    model.advance(3 * S + 1)
    model.advance(4 * S)
    lines = [r.getMessage() for r in caplog.records if "no transform to the fixed frame" in r.getMessage()]
    assert lines == ["robot 'arm' (robot_description): links 'hand', 'upper' have no transform to the "
                     "fixed frame 'map'; they are hidden until TF connects them (is "
                     "robot_state_publisher running?)"]
    connect_tf(model)
    events = b.sync()
    assert "ADD" in [e.etype for e in events]
    assert b.parent("robot:upper") == "tf:upper" and b.parent("robot:hand") == "tf:hand"
    model.advance(5 * S)
    assert not [p for p in model.problems.active() if p.kind == "tf" and "robot" in p.message]
    assert_browser_matches_model(b)


# -- problems -------------------------------------------------------------------------------------------
def test_a_missing_mesh_is_logged_once_and_the_rest_of_the_robot_shows(meshes, caplog):
    root, resolver, _ = meshes
    caplog.set_level(logging.INFO, LOGGER)
    model = SceneModel("map", resolve_mesh=resolver)
    b = Browser(model)
    urdf = arm((root / "gone.stl").as_uri())
    found = model.set_robot_description(urdf, "/robot_description")
    assert len(found) == 1
    assert found[0].startswith("robot 'arm' (/robot_description): mesh not shown (file://")
    assert "gone.stl; link 'hand'): file " in found[0] and found[0].endswith(
        "does not exist; the rest of the robot is shown")
    connect_tf(model)
    b.sync()
    assert b.node("robot:hand#visual0#body")["tag"] == "Sphere"     # same link, other visual
    assert b.node("robot:hand#visual1") is None
    assert b.node("robot:base_link#visual0#body") and b.node("robot:upper#visual0#body")
    # the same description again (transient local re-delivery): nothing logged, nothing sent
    assert model.set_robot_description(urdf, "/robot_description") == []
    assert b.sync() == []
    # a changed description that still misses it: not logged again
    model.set_robot_description(urdf.replace('radius="0.08"', 'radius="0.09"'), "/robot_description")
    assert [r.getMessage() for r in caplog.records].count(found[0]) == 1
    assert len([r for r in caplog.records if "gone.stl" in r.getMessage()]) == 1


def test_a_urdf_with_an_unknown_package_is_reported_clearly(tmp_path, monkeypatch, caplog):
    prefix = tmp_path / "prefix"
    (prefix / "share" / "ament_index" / "resource_index" / "packages").mkdir(parents=True)
    monkeypatch.setenv("AMENT_PREFIX_PATH", str(prefix))
    caplog.set_level(logging.ERROR, LOGGER)
    model = SceneModel("map", resolve_mesh=MeshResolver(lambda name, root: f"/files/{name}/"))
    urdf = ARM.replace("MESH", "package://no_such_robot_description/meshes/hand.stl").replace(
        '<geometry><box size="0.4 0.2 0.1"/></geometry>',
        '<geometry><mesh filename="package://no_such_robot_description/meshes/base.dae"/></geometry>')
    found = model.set_robot_description(urdf, "/robot_description")
    assert found == [
        "robot 'arm' (/robot_description): 2 meshes not shown (package://no_such_robot_description/"
        "meshes/base.dae, package://no_such_robot_description/meshes/hand.stl; links 'base_link', "
        "'hand'): package 'no_such_robot_description' is not in the ament index "
        "(AMENT_PREFIX_PATH); source its workspace; the rest of the robot is shown"]
    assert [r.getMessage() for r in caplog.records] == found
    connect_tf(model)
    b = Browser(model)
    b.sync()
    assert b.node("robot:upper#visual0#body") and b.node("robot:hand#visual0#body")


def test_relative_meshes_from_a_topic_and_unknown_formats_are_reported(meshes):
    _, resolver, _ = meshes
    model = SceneModel("map", resolve_mesh=resolver)
    found = model.set_robot_description(ARM.replace("MESH", "meshes/hand.stl"))
    assert "a relative mesh path needs the URDF's folder: use package:// or file:// URIs" in found[0]
    found = model.set_robot_description(ARM.replace("MESH", "package://p/hand.3ds"))
    assert "mesh format '.3ds' is not supported (STL, DAE, OBJ, GLB/GLTF)" in found[0]


def test_a_urdf_file_with_relative_meshes_under_a_mesh_root(meshes, tmp_path):
    root, resolver, _ = meshes
    path = root / "arm.urdf"
    path.write_text(arm("hand.stl"))
    from vuer_ros.scene.urdf import read_urdf_file
    model = SceneModel("map", resolve_mesh=resolver)
    assert model.set_robot(read_urdf_file(path)) == []
    connect_tf(model)
    b = Browser(model)
    b.sync()
    assert b.node("robot:hand#visual1#body")["src"] == "/files/root0/hand.stl"


# -- replacing the model --------------------------------------------------------------------------------
def test_a_new_description_replaces_only_what_changed(shown, meshes):
    model, b = shown
    root = meshes[0]
    urdf = arm((root / "hand.stl").as_uri()).replace('<color rgba="0 1 0 0.5"/>', '<color rgba="1 1 0 1"/>')
    model.set_robot_description(urdf, "/robot_description")
    events = b.sync()
    assert [e.etype for e in events] == ["UPSERT"]
    assert [n["key"] for n in events[0].data["nodes"]] == ["robot:upper"]
    assert b.node("robot:upper#visual0#body")["material"]["color"] == "#ffff00"
    assert_browser_matches_model(b)
    # a link loses its visuals, another link is renamed away
    smaller = urdf.replace('<visual><geometry><sphere radius="0.08"/></geometry></visual>', "")
    smaller = smaller.replace('<link name="base_link">', '<link name="base">').replace(
        '<parent link="base_link"/>', '<parent link="base"/>')
    model.set_robot_description(smaller, "/robot_description")
    events = b.sync()
    assert {e.etype for e in events} == {"REMOVE", "UPSERT"}
    assert b.node("robot:base_link") is None
    # visuals are keyed by position: the mesh is now the hand's first
    assert b.node("robot:hand#visual0#body")["tag"] == "Stl" and b.node("robot:hand#visual1") is None
    assert_browser_matches_model(b)


def test_text_that_is_not_urdf_clears_the_robot_and_is_logged(shown, caplog):
    model, b = shown
    caplog.set_level(logging.ERROR, LOGGER)
    found = model.set_robot_description("<robot name='x'><link name='a'>", "/robot_description")
    assert found[0].startswith("/robot_description: not well-formed XML (line 1")
    assert model.robot is None
    b.sync()
    assert b.node("robot:base_link") is None and b.node("tf:base_link")
    assert [r.getMessage() for r in caplog.records] == [found[0] + "; no robot model is shown"]
    assert_browser_matches_model(b)
    assert model.set_robot_description(ARM.replace("MESH", "package://p/x.stl")) != []
    b.sync()
    assert b.node("robot:base_link")
    assert not [p for p in model.problems.active() if p.kind == "urdf"]


def test_the_robot_survives_a_fixed_frame_change(shown):
    model, b = shown
    model.set_fixed_frame("base_link")
    (event,) = b.sync()
    assert event.etype == "SET"
    assert b.parent("robot:upper") == "tf:upper" and b.parent("tf:map") == "tf:base_link"
    assert b.node("robot:base_link")


def test_robot_description_messages_are_read_by_field_name(meshes):
    root, resolver, _ = meshes
    model = SceneModel("map", resolve_mesh=resolver)
    assert model.on_robot_description(String(data=arm((root / "hand.stl").as_uri()))) == []
    assert model.robot.source == "/robot_description"
    assert sorted(model.robot.links) == ["base_link", "hand", "upper"]


def test_file_uris_of_paths_with_spaces_are_served(tmp_path):
    folder = tmp_path / "my meshes"
    binary_stl(folder / "hand 1.stl")
    model = SceneModel("map", resolve_mesh=MeshResolver(lambda name, root: f"/files/{name}/", [folder]))
    assert model.set_robot_description(arm((folder / "hand 1.stl").as_uri())) == []
    connect_tf(model)
    b = Browser(model)
    b.sync()
    assert b.node("robot:hand#visual1#body")["src"] == "/files/root0/hand%201.stl"


def test_a_description_parsed_elsewhere_or_its_error_goes_through_the_same_door(meshes, caplog):
    from vuer_ros.scene import UrdfError, read_urdf_file
    root, resolver, _ = meshes
    path = root / "arm.urdf"
    path.write_text(arm("hand.stl"))
    model = SceneModel("map", resolve_mesh=resolver)
    assert model.on_robot_description(read_urdf_file(path), str(path)) == []
    assert model.robot.source == str(path)
    caplog.set_level(logging.ERROR, LOGGER)
    with pytest.raises(UrdfError) as e:
        read_urdf_file(root / "missing.urdf")
    assert model.on_robot_description(e.value, "x") == [str(e.value)]
    assert model.robot is None
    assert "missing.urdf: no such URDF file; no robot model is shown" in caplog.text
