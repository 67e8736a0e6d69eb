"""read_marker: every marker type 0-12 -> the expected elements, with rviz's scale semantics."""

import math

import numpy as np
import pytest
from scene_msgs import marker

from vuer_ros.protocol.elements import to_wire_node
from vuer_ros.scene import MarkerError, read_marker
from vuer_ros.scene.marker_geometry import Q_Y_TO_X, Q_Y_TO_Z
from vuer_ros.scene.transform import quat_rotate

R = (1.0, 0.0, 0.0, 1.0)


def children(**kw):
    spec = read_marker(marker(**kw), resolve_mesh=lambda uri: "/files/" + uri.split("://")[1])
    return spec, spec.children


def rotated_axis(q, axis=(0.0, 1.0, 0.0)):
    return np.round(quat_rotate(tuple(q), axis), 9)


def test_cube_is_a_box_of_scale():
    spec, (box,) = children(type=1, scale=(1.0, 2.0, 3.0), rgba=(1.0, 0.5, 0.0, 1.0))
    assert box.tag == "Box" and box.key == "marker:test:0#body"
    assert box.args == [1.0, 2.0, 3.0]
    assert box.material == {"color": "#ff8000", "opacity": 1.0, "transparent": False}
    assert spec.visible


def test_sphere_is_a_unit_diameter_sphere_scaled_to_an_ellipsoid():
    _, (s,) = children(type=2, scale=(1.0, 2.0, 3.0))
    assert s.tag == "Sphere" and s.args[0] == 0.5 and s.scale == [1.0, 2.0, 3.0]


def test_cylinder_axis_is_turned_from_y_to_z():
    _, (c,) = children(type=3, scale=(0.2, 0.4, 2.0))
    assert c.tag == "Cylinder" and c.args[:3] == [0.5, 0.5, 1.0]
    assert list(rotated_axis(c.quaternion)) == [0.0, 0.0, 1.0]      # height along +Z
    # local (x, y, z) scale = (diameter x, height z, diameter y)
    assert c.scale == [0.2, 2.0, 0.4]
    assert c.quaternion == list(Q_Y_TO_Z)
    # local z ends up along -Y: the y diameter really is along Y
    assert list(np.abs(rotated_axis(c.quaternion, (0, 0, 1)))) == [0.0, 1.0, 0.0]


def test_arrow_pose_form_length_width_height():
    _, (shaft, head) = children(type=0, scale=(2.0, 0.1, 0.2))
    assert shaft.tag == "Cylinder" and head.tag == "Cone"
    assert list(rotated_axis(shaft.quaternion)) == [1.0, 0.0, 0.0]   # along +X
    assert shaft.quaternion == list(Q_Y_TO_X) == head.quaternion
    # shaft 0.77 of the length, diameter 1 x scale.y/z; head 0.23, diameter 2 x
    assert shaft.scale == pytest.approx([0.1, 1.54, 0.2])
    assert shaft.position == pytest.approx([0.77, 0.0, 0.0])
    assert head.scale == pytest.approx([0.2, 0.46, 0.4])
    assert head.position == pytest.approx([1.54 + 0.23, 0.0, 0.0])
    # tip at exactly scale.x
    assert head.position[0] + head.scale[1] / 2 == pytest.approx(2.0)


def test_arrow_points_form_diameters_and_head_length():
    _, (shaft, head) = children(type=0, points=[(1, 1, 0), (1, 1, 2)], scale=(0.1, 0.3, 0.5))
    assert list(rotated_axis(shaft.quaternion)) == [0.0, 0.0, 1.0]
    assert shaft.args[:3] == pytest.approx([0.05, 0.05, 1.5])        # shaft = 2 - head 0.5
    assert head.args[:2] == pytest.approx([0.15, 0.5])
    assert shaft.position == pytest.approx([1.0, 1.0, 0.75])
    assert head.position == pytest.approx([1.0, 1.0, 1.75])


def test_arrow_points_form_default_and_clamped_head():
    _, (shaft, head) = children(type=0, points=[(0, 0, 0), (4, 0, 0)], scale=(0.1, 0.2, 0.0))
    assert head.args[1] == pytest.approx(0.23 * 4)
    assert shaft.args[2] == pytest.approx(0.77 * 4)
    _, (shaft, head) = children(type=0, points=[(0, 0, 0), (1, 0, 0)], scale=(0.1, 0.2, 9.0))
    assert head.args[1] == pytest.approx(1.0) and shaft.args[2] == 0.0


def test_arrow_strip_one_arrow_per_segment():
    spec, kids = children(type=12, points=[(0, 0, 0), (1, 0, 0), (1, 2, 0)], scale=(0.1, 0.2, 0.0))
    assert [k.tag for k in kids] == ["Cylinder", "Cone", "Cylinder", "Cone"]
    assert [k.key for k in kids] == ["marker:test:0#shaft.0", "marker:test:0#head.0",
                                     "marker:test:0#shaft.1", "marker:test:0#head.1"]
    assert kids[1].args[1] == pytest.approx(0.25)        # 3:1 shaft:head of a 1 m segment
    assert kids[3].args[1] == pytest.approx(0.5)         # of a 2 m segment
    assert list(rotated_axis(kids[2].quaternion)) == [0.0, 1.0, 0.0]
    assert kids[2].args[0] == pytest.approx(0.05) and kids[3].args[0] == pytest.approx(0.1)


@pytest.mark.parametrize("mtype, segments", [(4, False), (5, True)])
def test_lines_pack_points_with_world_width(mtype, segments):
    pts = [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 1)]
    _, (line,) = children(type=mtype, points=pts, scale=(0.05, 0, 0))
    assert line.tag == "Line" and line.segments is segments
    # plain lists (what the Vuer client reads), colour also top-level for it
    assert line.points == [list(map(float, p)) for p in pts]
    assert line.lineWidth == 0.05 and line.worldUnits is True
    assert line.vertexColors is None and line.material["color"] == "#ff0000" == line.color


def test_line_per_vertex_colours_are_rgb_lists():
    pts = [(0, 0, 0), (1, 0, 0), (2, 0, 0)]
    cols = [(1, 0, 0, 1), (0, 1, 0, 1), (0, 0, 1, 1)]
    _, (line,) = children(type=4, points=pts, colors=cols)
    assert line.vertexColors == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    assert line.material == {"color": "#ffffff", "opacity": 1.0, "transparent": False}


@pytest.mark.parametrize("mtype, tag", [(6, "CubeList"), (7, "SphereList")])
def test_cube_and_sphere_lists_are_instanced(mtype, tag):
    pts = [(i, 0, 0) for i in range(100)]
    cols = [(0, 0, 1, 0.5)] * 100
    _, (lst,) = children(type=mtype, points=pts, colors=cols, scale=(0.1, 0.2, 0.3))
    assert lst.tag == tag and lst.scale == [0.1, 0.2, 0.3]
    assert lst.positions.shape == (100, 3) and lst.positions.dtype == np.float32
    assert lst.colors.shape == (100, 4) and lst.colors[0].tolist() == [0, 0, 255, 128]
    assert lst.material["transparent"] is True
    wire = to_wire_node(lst)
    assert len(wire["positions"]) == 100 * 12 and len(wire["colors"]) == 100 * 4


def test_points_size_and_size_y():
    _, (pc,) = children(type=8, points=[(0, 0, 0), (1, 1, 1)], scale=(0.02, 0.04, 0.0))
    assert pc.tag == "PointCloud" and pc.size == 0.02 and pc.sizeY == 0.04
    assert pc.vertices.shape == (2, 3) and pc.colors is None


def test_text_view_facing_font_size_is_scale_z():
    spec, (t,) = children(type=9, text="hello", scale=(0.0, 0.0, 0.25), rgba=(1, 1, 1, 0.5))
    assert t.tag == "Text" and t.text == "hello" and t.fontSize == 0.25 and t.billboard is True
    assert t.anchorX == "center" and t.anchorY == "middle"
    assert t.material == {"color": "#ffffff", "opacity": 0.5, "transparent": True}


@pytest.mark.parametrize("uri, tag", [("package://robot/meshes/base.STL", "Stl"),
                                      ("file:///tmp/a.dae", "Dae"),
                                      ("https://host/m.obj?x=1", "Obj"),
                                      ("package://p/m.glb", "Glb")])
def test_mesh_resource_by_extension_through_the_resolver(uri, tag):
    _, (m,) = children(type=10, mesh_resource=uri, scale=(2.0, 2.0, 2.0))
    assert m.tag == tag and m.src == "/files/" + uri.split("://")[1]
    assert m.scale == [2.0, 2.0, 2.0] and m.useEmbeddedMaterials is False
    assert m.material["color"] == "#ff0000"


def test_mesh_embedded_materials_with_zero_colour_stay_visible():
    spec, (m,) = children(type=10, mesh_resource="package://p/m.dae",
                          mesh_use_embedded_materials=True, rgba=(0, 0, 0, 0))
    assert m.useEmbeddedMaterials is True and spec.visible
    assert m.material == {"color": "#ffffff", "opacity": 1.0, "transparent": False}


def test_triangle_list_vertices_faces_and_colours():
    pts = [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 0, 1), (0, 1, 1)]
    spec, (tm,) = children(type=11, points=pts, scale=(2.0, 2.0, 2.0), rgba=(1, 1, 1, 0.5),
                           colors=[(1, 0, 0, 1), (0, 1, 0, 1)])   # one per triangle
    assert tm.tag == "TriMesh" and tm.scale == [2.0, 2.0, 2.0]
    assert tm.vertices.shape == (6, 3) and tm.faces.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert tm.faces.dtype == np.uint32
    # per-face colours expanded to vertices; alpha = color.a * colors[i].a (rviz)
    assert tm.colors.tolist() == [[255, 0, 0, 128]] * 3 + [[0, 255, 0, 128]] * 3
    assert tm.materialType == "basic"          # unlit, as rviz; double-sided by default


def test_zero_alpha_is_invisible():
    assert read_marker(marker(type=1, rgba=(1, 0, 0, 0))).visible is False
    assert read_marker(marker(type=8, points=[(0, 0, 0)], colors=[(1, 0, 0, 0)])).visible is False
    assert read_marker(marker(type=8, points=[(0, 0, 0)], colors=[(1, 0, 0, 0.1)],
                              rgba=(0, 0, 0, 0))).visible is True


def test_pose_quaternion_fixes_come_back_as_warnings():
    spec = read_marker(marker(type=1, q=(0, 0, 0, 0)))
    assert spec.pose.rotation == (0.0, 0.0, 0.0, 1.0)
    assert spec.warnings == [("quaternion", "marker ns=test id=0: orientation is all zeros; "
                                            "using the identity")]
    spec = read_marker(marker(type=1, q=(0, 0, 0, 2)))
    assert spec.pose.rotation == (0.0, 0.0, 0.0, 1.0)
    assert spec.warnings[0][1] == "marker ns=test id=0: orientation has length 2, not 1; normalised"


@pytest.mark.parametrize("kw, kind, text", [
    (dict(type=42), "type", "marker ns=test id=0: unknown type 42"),
    (dict(type=1, xyz=(math.nan, 0, 0)), "nan", "marker ns=test id=0: pose has a non-finite"),
    (dict(type=1, scale=(1, math.inf, 1)), "nan", "marker ns=test id=0: scale has a non-finite"),
    (dict(type=8, points=[(0, 0, 0), (0, math.nan, 0)]), "nan",
     "marker ns=test id=0: points[1] has a non-finite"),
    (dict(type=8, points=[(0, 0, 0)] * 4, colors=[(1, 1, 1, 1)] * 5), "colors",
     "marker ns=test id=0: colors has 5 entries for 4 points"),
    (dict(type=0, points=[(0, 0, 0)]), "points", "marker ns=test id=0: ARROW has 1 point"),
    (dict(type=5, points=[(0, 0, 0)] * 3), "points", "odd number of points (3)"),
    (dict(type=11, points=[(0, 0, 0)] * 4), "points", "TRIANGLE_LIST has 4 points"),
    (dict(type=12, points=[(0, 0, 0)]), "points", "ARROW_STRIP has 1 points"),
    (dict(type=10, mesh_resource=""), "mesh", "empty mesh_resource"),
    (dict(type=10, mesh_resource="package://p/m.ply"), "mesh", "is not STL, OBJ"),
])
def test_bad_markers_raise_with_the_key_and_cause(kw, kind, text):
    with pytest.raises(MarkerError) as e:
        read_marker(marker(**kw), resolve_mesh=lambda uri: uri)
    assert e.value.kind == kind
    assert text in str(e.value)


def test_mesh_resolver_failure_is_a_marker_error():
    def resolve(uri):
        raise FileNotFoundError("package 'nope' not found")
    with pytest.raises(MarkerError, match="cannot load mesh_resource 'package://nope/m.stl': "
                                          "package 'nope' not found"):
        read_marker(marker(type=10, mesh_resource="package://nope/m.stl"), resolve_mesh=resolve)


class _Huge:
    """A points list that only knows its length: nothing may iterate it."""

    def __len__(self):
        return 10_000_000

    def __iter__(self):
        raise AssertionError("a too-big marker must be refused before reading its points")


def test_a_ten_million_point_marker_is_refused_without_reading_points():
    msg = marker(type=8)
    msg.points = _Huge()
    with pytest.raises(MarkerError, match="has 10000000 points, more than the limit of 1000000") as e:
        read_marker(msg)
    assert e.value.kind == "too_many_points"


def test_frame_and_lifetime_fields():
    spec = read_marker(marker(type=1, frame="/base", stamp_ns=3_500_000_000, lifetime_ns=2 * 10**9,
                              frame_locked=True))
    assert spec.frame_id == "base" and spec.stamp_ns == 3_500_000_000
    assert spec.lifetime_ns == 2 * 10**9 and spec.frame_locked
    assert read_marker(marker(type=1, lifetime_ns=50_000)).lifetime_ns == 0   # <= 100 us: forever


def test_odd_namespaces_are_escaped_in_keys_and_quoted_in_messages():
    spec = read_marker(marker(type=1, ns="arm:left #1", id=-3))
    assert spec.key == "marker:arm%3Aleft%20%231:-3"
    assert spec.children[0].key == "marker:arm%3Aleft%20%231:-3#body"
    with pytest.raises(MarkerError, match=r"marker ns='arm:left #1' id=-3: unknown type"):
        read_marker(marker(type=99, ns="arm:left #1", id=-3))


@pytest.mark.parametrize("mtype", [0, 1, 2, 3, 6, 7])
def test_lit_solids_are_lambert_and_meshes_keep_their_materials(mtype):
    """Marker solids are diffuse-lit (rviz's look; cheaper than the standard material);
    a mesh gets no materialType, which would replace its embedded materials."""
    kw = {"points": [(0, 0, 0), (1, 0, 0)]} if mtype in (6, 7) else {}
    _, parts = children(type=mtype, **kw)
    assert parts and all(p.materialType == "lambert" for p in parts)
    _, (m,) = children(type=10, mesh_resource="package://p/m.dae", mesh_use_embedded_materials=True)
    assert getattr(m, "materialType", None) is None
