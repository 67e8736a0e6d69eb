"""read_urdf: URDF text -> links, visuals, origins, sizes and colours as rviz
(through urdfdom) resolves them; broken descriptions name their source and fault."""

import math

import pytest

from vuer_ros.scene.errors import UrdfError
from vuer_ros.scene.transform import quat_rotate
from vuer_ros.scene.urdf import read_urdf, read_urdf_file


def robot(body: str, name: str = "r") -> str:
    return f'<?xml version="1.0"?>\n<robot name="{name}">\n{body}\n</robot>\n'


def visual(geometry: str, origin: str = "", material: str = "") -> str:
    return f"<visual>{origin}<geometry>{geometry}</geometry>{material}</visual>"


def one_visual(desc, link="a", index=0):
    (found,) = [lk for lk in desc.links if lk.name == link]
    return found.visuals[index]


# -- geometry and origins ---------------------------------------------------------------------
def test_primitives_become_rviz_sizes_box_edges_diameters_and_lengths():
    desc = read_urdf(robot(
        '<link name="a">'
        + visual('<box size="0.4 0.2 0.1"/>')
        + visual('<sphere radius="0.15"/>')
        + visual('<cylinder radius="0.05" length="0.7"/>')
        + "</link>"))
    box, sphere, cylinder = one_visual(desc), one_visual(desc, index=1), one_visual(desc, index=2)
    assert (box.kind, box.size) == ("box", (0.4, 0.2, 0.1))
    assert (sphere.kind, sphere.size) == ("sphere", (0.3, 0.3, 0.3))
    assert (cylinder.kind, cylinder.size) == ("cylinder", (0.1, 0.1, 0.7))
    assert [v.index for v in desc.visuals] == [0, 1, 2]


def test_origin_rpy_is_fixed_axis_roll_pitch_yaw():
    desc = read_urdf(robot('<link name="a">' + visual(
        '<box size="1 1 1"/>', '<origin xyz="1 2 3" rpy="0 0 1.5707963267948966"/>') + "</link>"))
    v = one_visual(desc)
    assert v.origin.translation == pytest.approx((1.0, 2.0, 3.0))
    assert quat_rotate(v.origin.rotation, (1.0, 0.0, 0.0)) == pytest.approx((0.0, 1.0, 0.0), abs=1e-9)
    # roll then pitch then yaw, about the fixed axes: R = Rz(yaw) Ry(pitch) Rx(roll)
    desc = read_urdf(robot('<link name="a">' + visual(
        '<box size="1 1 1"/>', f'<origin rpy="{math.pi / 2} 0 {math.pi / 2}"/>') + "</link>"))
    q = one_visual(desc).origin.rotation
    assert quat_rotate(q, (0.0, 1.0, 0.0)) == pytest.approx((0.0, 0.0, 1.0), abs=1e-9)  # Rx: Y -> Z
    assert quat_rotate(q, (1.0, 0.0, 0.0)) == pytest.approx((0.0, 1.0, 0.0), abs=1e-9)  # Rz: X -> Y


def test_mesh_scale_one_or_three_numbers_and_the_filename_as_written():
    desc = read_urdf(robot(
        '<link name="a">'
        + visual('<mesh filename="package://pkg/meshes/a.stl" scale="0.001 0.002 0.003"/>')
        + visual('<mesh filename="package://pkg/meshes/b.dae" scale="2"/>')
        + visual('<mesh filename="file:///abs/c.obj"/>')
        + "</link>"))
    a, b, c = (one_visual(desc, index=i) for i in range(3))
    assert (a.kind, a.size, a.mesh_uri) == ("mesh", (0.001, 0.002, 0.003), "package://pkg/meshes/a.stl")
    assert b.size == (2.0, 2.0, 2.0)
    assert (c.size, c.mesh_uri) == ((1.0, 1.0, 1.0), "file:///abs/c.obj")


def test_relative_mesh_names_resolve_against_the_urdf_files_folder(tmp_path):
    path = tmp_path / "robots" / "r.urdf"
    path.parent.mkdir()
    path.write_text(robot('<link name="a">' + visual('<mesh filename="meshes/a.stl"/>') + "</link>"))
    desc = read_urdf_file(path)
    v = one_visual(desc)
    assert v.filename == "meshes/a.stl"
    assert v.mesh_uri == (tmp_path / "robots" / "meshes" / "a.stl").as_uri()
    assert desc.source == str(path)
    # from a topic there is no folder: the name is kept (and reported when the robot is built)
    assert one_visual(read_urdf(path.read_text())).mesh_uri == "meshes/a.stl"


def test_links_without_visuals_are_listed_too():
    desc = read_urdf(robot('<link name="base_footprint"/><link name="a">'
                           + visual('<box size="1 1 1"/>') + "</link>"))
    assert desc.link_names == ["base_footprint", "a"]
    assert desc.links[0].visuals == ()


# -- materials ------------------------------------------------------------------------------------
def test_robot_level_materials_are_used_by_name():
    desc = read_urdf(robot(
        '<material name="blue"><color rgba="0 0 0.8 1"/></material>'
        '<link name="a">' + visual('<box size="1 1 1"/>', material='<material name="blue"/>')
        + "</link>"))
    m = one_visual(desc).material
    assert (m.name, m.rgba) == ("blue", (0.0, 0.0, 0.8, 1.0))
    assert desc.warnings == ()


def test_a_global_material_wins_over_a_local_colour_of_the_same_name():
    # urdfdom: a visual's named material is looked up first; its own colour only
    # defines the name when it is new
    desc = read_urdf(robot(
        '<material name="paint"><color rgba="1 0 0 1"/></material>'
        '<link name="a">' + visual('<box size="1 1 1"/>',
                                   material='<material name="paint"><color rgba="0 1 0 1"/></material>')
        + "</link>"))
    assert one_visual(desc).material.rgba == (1.0, 0.0, 0.0, 1.0)


def test_a_local_named_material_becomes_global_for_later_links():
    desc = read_urdf(robot(
        '<link name="a">' + visual('<box size="1 1 1"/>',
                                   material='<material name="orange"><color rgba="1 0.5 0 0.5"/></material>')
        + '</link><link name="b">' + visual('<box size="1 1 1"/>', material='<material name="orange"/>')
        + "</link>"))
    assert one_visual(desc, "b").material.rgba == (1.0, 0.5, 0.0, 0.5)


def test_unknown_material_names_are_warned_and_drawn_in_the_default_colour():
    desc = read_urdf(robot('<link name="a">' + visual('<box size="1 1 1"/>',
                                                      material='<material name="nowhere"/>') + "</link>"))
    assert one_visual(desc).material is None
    ((kind, text),) = desc.warnings
    assert kind == "material"
    assert "robot 'r' (robot_description): link 'a' visual 0: material 'nowhere' is not defined" in text


def test_a_visual_without_material_takes_the_links_first_visuals_material():
    desc = read_urdf(robot('<link name="a">'
                           + visual('<box size="1 1 1"/>',
                                    material='<material name="g"><color rgba="0 1 0 1"/></material>')
                           + visual('<sphere radius="1"/>') + "</link>"
                           + '<link name="b">' + visual('<sphere radius="1"/>') + "</link>"))
    assert one_visual(desc, "a", 1).material.rgba == (0.0, 1.0, 0.0, 1.0)
    assert one_visual(desc, "b").material is None


def test_texture_only_materials_keep_the_texture_name():
    desc = read_urdf(robot('<link name="a">' + visual(
        '<box size="1 1 1"/>', material='<material name="t"><texture filename="package://p/t.png"/></material>')
        + "</link>"))
    m = one_visual(desc).material
    assert (m.rgba, m.texture) == (None, "package://p/t.png")


# -- faults -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("", "robot_description: the robot description is empty"),
    ("   \n", "robot_description: the robot description is empty"),
    ('<robot name="r">\n<link name="a">\n</robot>', "not well-formed XML (line 3"),
    ('<sdf version="1.6"><model name="m"/></sdf>', "the root element is <sdf>, not <robot>: not a URDF (SDF"),
    ('<robot xmlns:xacro="http://www.ros.org/wiki/xacro" name="r">\n<xacro:property name="w" value="1"/>\n</robot>',
     "unexpanded xacro file (<xacro:property> on line 2); run xacro"),
    ('<robot><link name="a"/></robot>', "<robot> has no name attribute"),
    ('<robot name="r"><link/></robot>', "not a valid URDF (an element lacks its required attribute 'name')"),
])
def test_descriptions_that_are_not_urdf_raise_with_source_and_reason(text, expected):
    with pytest.raises(UrdfError) as e:
        read_urdf(text)
    assert str(e.value).startswith("robot_description: ")
    assert expected in str(e.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(UrdfError, match=r"nope\.urdf: no such URDF file"):
        read_urdf_file(tmp_path / "nope.urdf")


def test_local_faults_skip_the_visual_and_keep_the_robot():
    desc = read_urdf(robot(
        '<link name="a">' + visual('<box size="1 1"/>') + visual('<sphere radius="0.5"/>') + "</link>"
        '<link name="a">' + visual('<sphere radius="9"/>') + "</link>"))
    assert [v.kind for v in desc.visuals] == ["sphere"]
    kinds = sorted(k for k, _ in desc.warnings)
    assert kinds == ["geometry", "link"]
    assert any("link 'a' visual 0: <box size> needs 3 finite numbers" in t for _, t in desc.warnings)
    assert any("link 'a' is defined twice" in t for _, t in desc.warnings)


def test_the_digest_tells_identical_descriptions_apart_from_changed_ones():
    text = robot('<link name="a">' + visual('<box size="1 1 1"/>') + "</link>")
    assert read_urdf(text).digest == read_urdf(text.encode()).digest
    assert read_urdf(text).digest != read_urdf(text.replace('1 1 1', '1 1 2')).digest
    assert read_urdf(text).digest != read_urdf(text, base_dir="/tmp").digest
