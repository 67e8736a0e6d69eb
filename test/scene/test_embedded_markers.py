"""Markers that carry their files: MESH_RESOURCE from mesh_file bytes, TRIANGLE_LIST
textures (embedded:// bytes or a URI) with uv_coordinates; the format checks of
scene/embedded.py; rviz's mesh axes (Dae as authored); ARROW_STRIP details."""

from __future__ import annotations

import gc
import hashlib
import logging
import sys
from pathlib import Path

import numpy as np
import pytest
from scene_msgs import marker

from vuer_ros.protocol.elements import to_wire_node
from vuer_ros.scene import MarkerError, SceneModel, embedded, read_marker
from vuer_ros.scene.mesh_resolver import MeshResolver
from vuer_ros.scene.robot_model import build_robot_model
from vuer_ros.scene.urdf import read_urdf
from vuer_ros.server.blobs import BlobStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from meshes import collada_bytes, cuboid, glb_bytes, jpeg_bytes, obj_bytes, png_bytes, quadrants_png, stl_bytes  # noqa: E402

BOX = cuboid((-0.1, 0.05, -0.05), (0.1, 0.45, 0.05))
MESHES = {".stl": stl_bytes(*BOX), ".obj": obj_bytes(*BOX), ".dae": collada_bytes(*BOX, "Y_UP"),
          ".glb": glb_bytes(*BOX)}
SQUARE = [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 0, 0), (1, 1, 0), (0, 1, 0)]
SQUARE_UV = [(0, 1), (1, 1), (1, 0), (0, 1), (1, 0), (0, 0)]


@pytest.fixture
def store():
    return BlobStore()


@pytest.fixture
def resolver(store, tmp_path):
    (tmp_path / "tex.png").write_bytes(quadrants_png())
    return MeshResolver(lambda name, root: f"/files/{name}/", [tmp_path], embed=store.hold)


# -- format checks ---------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", sorted(MESHES))
def test_each_mesh_format_passes_its_own_check_and_fails_the_others(suffix):
    assert embedded.mesh_problem(MESHES[suffix], suffix) is None
    for other, data in MESHES.items():
        if other != suffix:
            assert embedded.mesh_problem(data, suffix), (other, suffix)


@pytest.mark.parametrize("suffix", [".stl", ".obj", ".dae", ".glb", ".gltf"])
def test_garbage_is_no_mesh(suffix):
    rng = np.random.default_rng(1)
    for n in (0, 10, 84, 5000):
        assert embedded.mesh_problem(rng.integers(0, 256, n, np.uint8).tobytes(), suffix)
    glb = MESHES[".glb"]
    assert "header says" in embedded.mesh_problem(glb[:-4], ".glb")
    assert embedded.mesh_problem(b"solid x\nfacet normal 0 0 1\nendsolid x\n", ".stl") is None
    assert embedded.mesh_problem(b'{"asset": {"version": "2.0"}}', ".gltf") is None


def test_image_checks_read_the_header():
    img = np.zeros((4, 4, 3), np.uint8)
    assert embedded.image_info(png_bytes(img)) == (".png", False)
    assert embedded.image_info(png_bytes(np.zeros((4, 4, 4), np.uint8))) == (".png", True)
    assert embedded.image_info(jpeg_bytes(img)) == (".jpg", False)
    assert "not a PNG or JPEG" in embedded.image_info(b"\x89PNG not really")
    assert "not a PNG or JPEG" in embedded.image_info(png_bytes(img)[:40])     # truncated
    from PIL import Image
    import io
    gif = io.BytesIO()
    Image.fromarray(img).save(gif, format="GIF")
    assert "GIF image" in embedded.image_info(gif.getvalue())


# -- MESH_RESOURCE from mesh_file ------------------------------------------------------------------
@pytest.mark.parametrize("suffix, tag", [(".stl", "Stl"), (".obj", "Obj"), (".dae", "Dae"), (".glb", "Glb")])
def test_mesh_file_is_served_from_memory_while_shown(resolver, store, suffix, tag):
    data = MESHES[suffix]
    spec = read_marker(marker(type=10, mesh_file=(f"arm/part{suffix.upper()}", data), scale=(2, 2, 2)),
                       resolver)
    (m,) = spec.children
    assert m.tag == tag and m.src == f"/blobs/{hashlib.sha256(data).hexdigest()}{suffix}"
    assert store.get(m.src[len("/blobs/"):]) == data and m.scale == [2.0, 2.0, 2.0]
    assert m.material["color"] == "#ff0000" and spec.visible
    # a second marker with the same bytes: the same URL, stored once
    other = read_marker(marker(type=10, id=1, mesh_file=("x" + suffix, data)), resolver)
    assert other.children[0].src == m.src and len(store) == 1
    del spec, m
    gc.collect()
    assert len(store) == 1                 # the other marker still shows it
    del other
    gc.collect()
    assert len(store) == 0


def test_mesh_resource_wins_over_mesh_file(resolver, tmp_path):
    (tmp_path / "cube.stl").write_bytes(MESHES[".stl"])
    spec = read_marker(marker(type=10, mesh_resource=f"file://{tmp_path}/cube.stl",
                              mesh_file=("m.obj", b"garbage")), resolver)
    assert spec.children[0].src == "/files/root0/cube.stl"


@pytest.mark.parametrize("mesh_file, text", [
    (("", b""), "empty mesh_resource and no mesh_file data"),
    (("m.ply", MESHES[".stl"]), "mesh_file.filename 'm.ply': its extension names no mesh format"),
    (("noext", MESHES[".stl"]), "'noext'"),
    (("m.stl", b"\x01\x02 definitely not an STL"), "mesh_file 'm.stl' is not a .stl mesh"),
    (("m.glb", MESHES[".dae"]), "mesh_file 'm.glb' is not a .glb mesh: it is not a binary glTF"),
    (("m.dae", MESHES[".obj"]), "is not a COLLADA document"),
    (("m.obj", b"\x00" * 100), "NUL bytes"),
])
def test_bad_mesh_files_are_refused_with_the_key(resolver, mesh_file, text):
    with pytest.raises(MarkerError) as e:
        read_marker(marker(type=10, ns="arm", id=4, mesh_file=mesh_file), resolver)
    assert e.value.kind == "mesh" and str(e.value).startswith("marker ns=arm id=4: ")
    assert text in str(e.value)


def test_mesh_file_size_limit(resolver, monkeypatch):
    monkeypatch.setattr(embedded, "MAX_EMBEDDED_BYTES", 1000)
    with pytest.raises(MarkerError, match=r"mesh_file 'm.stl' has 1684 bytes, more than the limit of "
                                          r"1000 \(MAX_EMBEDDED_BYTES\)"):
        read_marker(marker(type=10, mesh_file=("m.stl", stl_bytes(*cuboid()) + b"\0" * 1000)), resolver)


def test_mesh_file_without_a_server_is_refused():
    resolver = MeshResolver(lambda name, root: f"/files/{name}/")
    with pytest.raises(MarkerError, match="cannot load mesh_file 'm.stl': bytes carried in a message "
                                          "cannot be served here"):
        read_marker(marker(type=10, mesh_file=("m.stl", MESHES[".stl"])), resolver)


def test_unchanged_mesh_file_reuses_its_element(resolver, store):
    msg = marker(type=10, mesh_file=("m.dae", MESHES[".dae"]))
    first = read_marker(msg, resolver)
    again = read_marker(marker(type=10, xyz=(1, 0, 0), mesh_file=("m.dae", MESHES[".dae"])), resolver,
                        prev=first)
    assert again.children is first.children and len(store) == 1


# -- axes as rviz ------------------------------------------------------------------------------------
def test_dae_is_drawn_as_authored_other_formats_by_their_convention(resolver):
    tags = {}
    for suffix in MESHES:
        (m,) = read_marker(marker(type=10, mesh_file=("m" + suffix, MESHES[suffix])), resolver).children
        tags[m.tag] = getattr(m, "upAxis", None)
    # rviz ignores COLLADA's <up_axis>; Glb keeps the client's Y-up -> Z-up turn
    assert tags == {"Stl": None, "Obj": None, "Dae": "z", "Glb": None}


def test_urdf_dae_is_drawn_as_authored(tmp_path):
    (tmp_path / "link.dae").write_bytes(MESHES[".dae"])
    urdf = f"""<robot name="r"><link name="a"><visual><geometry>
      <mesh filename="file://{tmp_path}/link.dae"/></geometry></visual></link></robot>"""
    model = build_robot_model(read_urdf(urdf), MeshResolver(lambda n, r: f"/files/{n}/", [tmp_path]))
    assert model.problems == []
    wire = str(to_wire_node(model.links["a"]))
    assert "'tag': 'Dae'" in wire and "'upAxis': 'z'" in wire


# -- TRIANGLE_LIST textures --------------------------------------------------------------------------
def test_embedded_texture_with_uvs(resolver, store):
    png = quadrants_png()
    spec = read_marker(marker(type=11, points=SQUARE, uvs=SQUARE_UV, texture_resource="embedded://tex.png",
                              texture=png, texture_format="png", rgba=(1, 1, 1, 1)), resolver)
    assert spec.warnings == []
    (tm,) = spec.children
    assert tm.texture == f"/blobs/{hashlib.sha256(png).hexdigest()}.png"
    assert tm.uvs.dtype == np.float32 and tm.uvs.tolist() == [list(map(float, uv)) for uv in SQUARE_UV]
    assert getattr(tm, "materialType", None) is None      # lit, as rviz lights textures
    assert tm.material["transparent"] is False
    wire = to_wire_node(tm)
    assert wire["uvs"] == np.float32(SQUARE_UV).tobytes() and wire["texture"] == tm.texture
    del spec, tm, wire
    gc.collect()
    assert len(store) == 0


def test_texture_with_alpha_blends_and_with_vertex_colours_stays_lit(resolver):
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = rgba[..., 3] = 255
    spec = read_marker(marker(type=11, points=SQUARE, uvs=SQUARE_UV, texture_resource="embedded://a",
                              texture=png_bytes(rgba), colors=[(0, 1, 0, 1)] * 6), resolver)
    (tm,) = spec.children
    assert tm.material["transparent"] is True and getattr(tm, "materialType", None) is None
    assert tm.colors.shape == (6, 3)


def test_texture_resource_uri_is_resolved_like_a_mesh(resolver, tmp_path):
    spec = read_marker(marker(type=11, points=SQUARE, uvs=SQUARE_UV,
                              texture_resource=f"file://{tmp_path}/tex.png"), resolver)
    assert spec.children[0].texture == "/files/root0/tex.png" and spec.warnings == []


@pytest.mark.parametrize("kw, text", [
    (dict(uvs=SQUARE_UV[:5]), "uv_coordinates has 5 entries for 6 points"),
    (dict(uvs=[]), "uv_coordinates has 0 entries for 6 points"),
    (dict(uvs=[(0, float("nan"))] + SQUARE_UV[1:]), "uv_coordinates[0] has a non-finite value"),
    (dict(texture=b"JFIF? no, garbage " * 10, texture_format="jpeg"),
     "texture.data (180 bytes, format 'jpeg'): it is not a PNG or JPEG image"),
    (dict(texture=b""), "texture.data (0 bytes, format ''): it is not a PNG or JPEG image"),
    (dict(texture_resource="package://no_such_pkg/t.png"), "cannot load texture_resource "
     "'package://no_such_pkg/t.png': package 'no_such_pkg' is not in the ament index"),
])
def test_bad_textures_draw_the_triangles_without_and_say_why(resolver, kw, text):
    args = dict(type=11, ns="floor", id=2, points=SQUARE, uvs=SQUARE_UV, texture_resource="embedded://t",
                texture=quadrants_png())
    args.update(kw)
    spec = read_marker(marker(**args), resolver)
    (tm,) = spec.children
    assert getattr(tm, "texture", None) is None and getattr(tm, "uvs", None) is None
    assert [k for k, _ in spec.warnings] == ["texture"]
    message = spec.warnings[0][1]
    assert message.startswith("marker ns=floor id=2: ") and message.endswith("; drawn without its texture")
    assert text in message, message


def test_bad_texture_is_logged_once_and_other_markers_flow(resolver, caplog):
    model = SceneModel("map", resolve_mesh=resolver)
    bad = marker(type=11, ns="floor", id=2, points=SQUARE, uvs=SQUARE_UV[:3],
                 texture_resource="embedded://t", texture=quadrants_png())
    with caplog.at_level(logging.WARNING, logger="vuer_ros.scene"):
        for i in range(3):
            model.on_marker(bad, i)
            model.on_marker(marker(type=1, ns="ok", id=i), i)
            model.on_marker(marker(type=10, ns="mesh", id=1, mesh_file=("m.stl", b"junk")), i)
    lines = [r.getMessage() for r in caplog.records]
    assert sum("ns=floor id=2: uv_coordinates has 3 entries for 6 points" in x for x in lines) == 1
    assert sum("ns=mesh id=1: mesh_file 'm.stl' is not a .stl mesh" in x for x in lines) == 1
    assert {("ok", i) for i in range(3)} | {("floor", 2)} == {r.id for r in model.markers}


# -- ARROW_STRIP ---------------------------------------------------------------------------------------
def test_arrow_strip_head_length_clamps_and_equal_points_make_no_arrow():
    spec = read_marker(marker(type=12, points=[(0, 0, 0), (1, 0, 0), (1, 0, 0), (1, 0.1, 0)],
                              scale=(0.02, 0.05, 0.3)))
    kids = spec.children
    assert [k.key for k in kids] == ["marker:test:0#shaft.0", "marker:test:0#head.0",
                                     "marker:test:0#shaft.2", "marker:test:0#head.2"]
    assert kids[1].args[1] == pytest.approx(0.3) and kids[0].args[2] == pytest.approx(0.7)
    assert kids[3].args[1] == pytest.approx(0.1) and kids[2].args[2] == pytest.approx(0.0)
