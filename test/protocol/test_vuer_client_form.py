"""The Vuer client's form of our scene (protocol/vuer_client.py), without a socket: one
rule per schema tag, what each carries, and events translated against the scene tree.
test/compat/test_vuer_client.py shows the result in the real Vuer client."""

from __future__ import annotations

import numpy as np

from vuer_ros.protocol import SceneTree, Set, Update
from vuer_ros.protocol.schema import ELEMENTS
from vuer_ros.protocol.vuer_client import (
    CAP_HEIGHT_EM,
    MAP_BLOCKS,
    SUFFIX,
    VuerClientForm,
    is_vuer_client,
)
from vuer_ros.schemas import (
    Box,
    CubeList,
    DefaultScene,
    Group,
    Line,
    MapTile,
    PointCloud,
    Text,
    TriMesh,
)

# the INIT value of the Vuer client 0.0.102 (getClientInfo in its bundle) and ours (web/src/main.js)
VUER_INIT = {"client": "browser", "pkg": "@vuer-ai/vuer", "pkgVersion": "0.0.102", "userAgent": "x",
             "screenWidth": 640, "screenHeight": 480, "devicePixelRatio": 1}
OUR_INIT = {"clientType": "vuer_ros", "renderer": "browser", "id": "t", "userAgent": "x", "width": 4, "height": 2}


def wire(element):
    return Set(element).to_wire()["data"]


def test_every_schema_tag_and_alias_has_a_rule():
    rules = VuerClientForm().rules
    missing = [tag for e in ELEMENTS for tag in (e.tag, *e.aliases) if tag not in rules]
    assert not missing, f"tags with no Vuer client form: {missing} (add a rule in protocol/vuer_client.py)"


def test_the_vuer_client_is_told_by_its_init():
    assert is_vuer_client(VUER_INIT)
    assert not is_vuer_client(OUR_INIT)
    assert not is_vuer_client({**VUER_INIT, "clientType": "vuer_ros"})
    assert not is_vuer_client({})
    assert not is_vuer_client({"pkg": 3})


def test_trimesh_far_from_the_origin_keeps_its_vertices_in_float16():
    rng = np.random.default_rng(0)
    vertices = (np.array([5000.0, -3000.0, 12.0]) + rng.uniform(-1.0, 1.0, (30, 3))).astype(np.float32)
    colors = rng.integers(0, 255, (30, 4), dtype=np.uint8)
    node = wire(TriMesh(key="m", vertices=vertices, colors=colors, position=[1.0, 2.0, 3.0], scale=[2.0, 2.0, 2.0],
                        material={"color": "#ff0000", "opacity": 0.5, "side": "double"}))
    group = VuerClientForm().node(node)
    assert group["tag"] == "Group" and group["key"] == "m"
    assert group["position"] == [1.0, 2.0, 3.0] and group["scale"] == [2.0, 2.0, 2.0]
    (mesh,) = group["children"]
    assert mesh["tag"] == "TriMesh" and mesh["key"] == "m" + SUFFIX
    back = np.frombuffer(mesh["vertices"], np.float16).reshape(-1, 3).astype(np.float64) + mesh["position"]
    half = (vertices.max(0) - vertices.min(0)).max() / 2
    assert np.abs(back - vertices).max() <= half * 2 ** -11, "float16 about the middle: within 2^-11 of the half size"
    assert np.array_equal(np.frombuffer(mesh["faces"], np.uint32), np.arange(30)), "TRIANGLE_LIST: faces made"
    assert np.array_equal(np.frombuffer(mesh["colors"], np.uint8).reshape(-1, 3), colors[:, :3])
    assert mesh["color"] == "#ff0000" and mesh["opacity"] == 0.5 and mesh["side"] == "double"
    assert "side" not in mesh["material"], "its TriMesh spreads material last: a string side would win"
    assert mesh["material"]["alphaTest"] == 0, "its TriMesh discards what is not opaque unless told"


def test_point_cloud_and_lists():
    form = VuerClientForm()
    cloud = form.node(wire(PointCloud(key="c", vertices=np.ones((4, 3), np.float32), size=0.05,
                                      material={"color": "#00ff00"})))
    (points,) = cloud["children"]
    assert points["tag"] == "PointCloud" and points["size"] == 0.05 and points["color"] == "#00ff00"
    assert np.frombuffer(points["vertices"], np.float16).tolist() == [0.0] * 12 and points["position"] == [1.0] * 3

    positions = np.array([[0, 0, 0], [1, 0, 0]], np.float32)
    cubes = form.node(wire(CubeList(key="l", positions=positions, scale=[0.1, 0.2, 0.3], position=[5, 0, 0],
                                    colors=np.array([[255, 0, 0], [0, 0, 255]], np.uint8))))
    assert cubes["tag"] == "Group" and cubes["position"] == [5, 0, 0] and "scale" not in cubes
    (mesh,) = cubes["children"]
    v = np.frombuffer(mesh["vertices"], np.float16).reshape(-1, 3) + mesh["position"]
    assert v.shape == (48, 3) and np.allclose(v[:24].max(0) - v[:24].min(0), [0.1, 0.2, 0.3], atol=1e-3)
    c = np.frombuffer(mesh["colors"], np.uint8).reshape(-1, 3)
    assert (c[:24] == [255, 0, 0]).all() and (c[24:] == [0, 0, 255]).all()


def test_line_goes_as_lists_with_a_top_level_colour():
    node = wire(Line(key="l", points=np.array([[0, 0, 0], [1, 2, 3]], np.float32),
                     colors=np.array([[255, 0, 0], [0, 255, 0]], np.uint8), vertexColors=True,
                     material={"color": "#123456", "opacity": 0.5}))
    line = VuerClientForm().node(node)
    assert line["points"] == [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]]
    assert line["vertexColors"] == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]] and "colors" not in line
    assert line["color"] == "#123456" and line["opacity"] == 0.5 and line["transparent"] is True


def test_text_gets_an_offline_font_and_faces_the_camera_in_a_billboard():
    form = VuerClientForm(text_font="data:font/woff;base64,AAAA")
    facing = form.node(wire(Text(key="t", text="hi", fontSize=0.2, billboard=True, position=[1, 2, 3],
                                 material={"color": "#ff0000"})))
    assert facing["tag"] == "Billboard" and facing["position"] == [1, 2, 3]
    (label,) = facing["children"]
    assert label["tag"] == "Text" and label["children"] == ["hi"] and label["key"] == "t" + SUFFIX
    assert label["font"].startswith("data:font/woff") and label["color"] == "#ff0000"
    assert label["fontSize"] == 0.2 / CAP_HEIGHT_EM
    flat = form.node(wire(Text("ho", key="u", position=[0, 0, 1])))
    assert flat["tag"] == "Text" and flat["children"] == ["ho"] and flat["position"] == [0, 0, 1]


def test_events_are_translated_against_the_scene_with_the_event_applied():
    form = VuerClientForm()
    tree = SceneTree()
    scene = DefaultScene(Group(TriMesh(key="m", vertices=np.zeros((3, 3), np.float32)), key="g"),
                         Box(key="b", material={"color": "#ff0000"}))
    tree.apply(Set(scene).to_wire())
    set_event = form.event(Set(scene).to_wire(), tree)
    assert set_event["data"]["bgChildren"][0]["tag"] == "Line", "Grid: segments in the XY plane"

    # a pose-only UPDATE of a re-centred mesh sends the whole (wrapped) node
    update = Update({"key": "m", "position": [1, 0, 0]}).to_wire()
    tree.apply(update)
    (node,) = form.event(update, tree)["data"]["nodes"]
    assert node["tag"] == "Group" and node["position"] == [1, 0, 0] and node["children"][0]["tag"] == "TriMesh"

    # a partial UPDATE of a primitive stays partial; its material side becomes three's number
    update = Update({"key": "b", "material": {"color": "#00ff00", "side": "double"}}).to_wire()
    tree.apply(update)
    (node,) = form.event(update, tree)["data"]["nodes"]
    assert node == {"key": "b", "material": {"color": "#00ff00", "side": 2}}

    remove = {"ts": 0, "etype": "REMOVE", "data": {"keys": ["b"]}}
    assert form.event(remove, tree) == remove


def test_a_map_tile_is_a_mesh_of_coloured_cell_blocks():
    palette = np.zeros((256, 4), np.uint8)
    palette[0], palette[100], palette[255] = (250, 250, 250, 255), (0, 0, 0, 255), (112, 137, 134, 255)
    cells = np.array([[0, 100, 255], [100, 0, 0]], np.uint8)          # 3 x 2 cells, row 0 first
    node = wire(MapTile(key="map:/m#tile0_0", x=2, y=1, width=3, height=2, resolution=0.5,
                        cells=cells.tobytes(), palette=palette.tobytes(), alpha=0.7, position=[1.0, 0.0, 0.0]))
    group = VuerClientForm().node(node)
    assert group["tag"] == "Group" and group["position"] == [1.0, 0.0, 0.0]
    (mesh,) = group["children"]
    v = np.frombuffer(mesh["vertices"], np.float16).reshape(-1, 4, 3).astype(float) + mesh["position"]
    assert len(v) == 6
    # cell (i, j) of the tile covers [x + i, x + i + 1] x [y + j, y + j + 1] cells of 0.5 m
    assert np.allclose(v[0, 0], [1.0, 0.5, 0.0], atol=1e-3) and np.allclose(v[5, 2], [2.5, 1.5, 0.0], atol=1e-3)
    colours = np.frombuffer(mesh["colors"], np.uint8).reshape(-1, 4, 3)[:, 0]
    assert colours.tolist() == [list(palette[c][:3]) for c in cells.ravel()]
    assert mesh["opacity"] == 0.7
    # a big tile becomes at most MAP_BLOCKS x MAP_BLOCKS blocks
    big = wire(MapTile(key="t", width=512, height=512, cells=bytes(512 * 512), palette=palette.tobytes()))
    (mesh,) = VuerClientForm().node(big)["children"]
    assert len(np.frombuffer(mesh["faces"], np.uint32)) == 2 * 3 * MAP_BLOCKS ** 2


def test_a_ros_cloud_goes_as_its_point_cloud():
    from vuer_ros.schemas import Cloud
    vertices = np.array([[1.0, 2.0, 3.0], [1.5, 2.0, 3.0]], np.float32)
    colors = np.array([[255, 0, 0], [0, 255, 0]], np.uint8)
    group = VuerClientForm().node(wire(Cloud(key="cloud:/p", vertices=vertices, colors=colors, size=0.05)))
    (cloud,) = group["children"]
    assert cloud["tag"] == "PointCloud" and cloud["size"] == 0.05
    back = np.frombuffer(cloud["vertices"], np.float16).reshape(-1, 3).astype(float) + cloud["position"]
    assert np.allclose(back, vertices, atol=1e-3)
    assert np.frombuffer(cloud["colors"], np.uint8).reshape(-1, 3).tolist() == colors.tolist()
