"""Markers beyond rviz in bag renders, by pixels against the pinhole model of the output
bag (/vuer/camera_info, /tf_static): a bent ARROW_STRIP, MESH_RESOURCE drawn from the
bytes of mesh_file (a Y_UP COLLADA at its authored coordinates, then the same marker
as binary glTF, turned Y-up to Z-up), a TRIANGLE_LIST with an embedded texture; bad
embedded files recorded among them are logged once each with the marker's key."""

from __future__ import annotations

import asyncio
import logging

import cv2
import numpy as np
import pytest

from vuer_ros.bag import RenderOptions, Renderer, render_bag_async
from vuer_ros.bag.synthetic import T0_NS, MessageFactory, typestore, write_bag
from vuer_ros.render.camera import RenderCamera

from bag_helpers import camera_from_output, image_array, read_bag
from meshes import collada_bytes, cuboid, glb_bytes, quadrants_png, stl_bytes

W, H, RATE = 320, 240, 10.0
ARROW_STRIP, MESH, TRIANGLE_LIST, CUBE = 12, 10, 11, 1
MESH_AT = (0.0, 0.2, 0.0)
LO, HI = (-0.1, 0.05, -0.05), (0.1, 0.45, 0.05)
CORNERS = np.array([[x, y, z] for x in (LO[0], HI[0]) for y in (LO[1], HI[1]) for z in (LO[2], HI[2])])
Y_UP_TO_Z_UP = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]])
STRIP = [(-1.2, -0.5, 0.0), (-0.8, -0.5, 0.0), (-0.8, 0.1, 0.0)]
STRIP_SCALE = (0.05, 0.12, 0.1)
TEX_AT, S = (0.8, -0.2, 0.0), 0.3
# rgb of the colours below, each picked out by hue
CYAN, MAGENTA = (0, 255, 255), (255, 0, 255)
QUARTERS = {(255, 0, 0): (-S, 0.0), (0, 255, 0): (0.0, 0.0), (0, 0, 255): (-S, -S), (255, 255, 0): (0.0, -S)}


def at(s: float) -> int:
    return T0_NS + round(s * 1e9)


def marker(m: MessageFactory, t: int, ns: str, mid: int, mtype: int, xyz, rgba, **kw):
    fields = {k: kw.pop(k) for k in ("mesh_file", "texture", "uvs") if k in kw}
    msg = m.marker(t, ns, mid, mtype, "world", xyz, kw.pop("scale", (1, 1, 1)), rgba, **kw)
    T = m.T
    if "mesh_file" in fields:
        name, data = fields["mesh_file"]
        msg.mesh_file = T["visualization_msgs/msg/MeshFile"](filename=name, data=np.frombuffer(data, np.uint8))
    if "texture" in fields:
        msg.texture_resource = "embedded://floor.png"
        msg.texture = T["sensor_msgs/msg/CompressedImage"](header=m.header(0, ""), format="png",
                                                            data=np.frombuffer(fields["texture"], np.uint8))
        msg.uv_coordinates = [T["visualization_msgs/msg/UVCoordinate"](u=float(u), v=float(v))
                              for u, v in fields["uvs"]]
    return msg


def meshes_bag(path):
    store = typestore()
    m = MessageFactory(store)
    shape = cuboid(LO, HI)
    square = [(-S, -S, 0), (S, -S, 0), (S, S, 0), (-S, -S, 0), (S, S, 0), (-S, S, 0)]
    uvs = [(0, 1), (1, 1), (1, 0), (0, 1), (1, 0), (0, 0)]
    topic = "/visualization_marker"
    msgs = [(at(0), "/tf_static", m.tf_message(m.tf(at(0), "world", "base", (0, 0, 0))))]
    msgs.append((at(0), topic, marker(m, at(0), "strip", 1, ARROW_STRIP, (0, 0, 0), (1, 0, 1, 1),
                                      points=STRIP, scale=STRIP_SCALE)))
    msgs.append((at(0), topic, marker(m, at(0), "part", 1, MESH, MESH_AT, (0, 1, 1, 1),
                                      mesh_file=("part.dae", collada_bytes(*shape, "Y_UP")))))
    msgs.append((at(0), topic, marker(m, at(0), "floor", 1, TRIANGLE_LIST, TEX_AT, (1, 1, 1, 1),
                                      points=square, texture=quadrants_png(), uvs=uvs)))
    # the same marker, now from a binary glTF (Y-up by its spec)
    msgs.append((at(0.55), topic, marker(m, at(0.55), "part", 1, MESH, MESH_AT, (0, 1, 1, 1),
                                         mesh_file=("part.glb", glb_bytes(*shape)))))
    for k in range(3):   # bad ones, recorded three times each
        t = at(0.2 + 0.1 * k)
        msgs += [
            (t, topic, marker(m, t, "bad_tex", 1, TRIANGLE_LIST, (0, -2, 0), (1, 1, 1, 1), points=square,
                              texture=b"not an image at all", uvs=uvs)),
            (t, topic, marker(m, t, "bad_uv", 2, TRIANGLE_LIST, (0, -2, 0), (1, 1, 1, 1), points=square,
                              texture=quadrants_png(), uvs=uvs[:5])),
            (t, topic, marker(m, t, "bad_mesh", 3, MESH, (0, -2, 0), (1, 1, 1, 1),
                              mesh_file=("part.ply", stl_bytes(*shape)))),
            (t, topic, marker(m, t, "bad_mesh", 4, MESH, (0, -2, 0), (1, 1, 1, 1),
                              mesh_file=("part.stl", b"\x07garbage" * 30))),
        ]
    msgs.sort(key=lambda e: e[0])
    return write_bag(path, msgs, store, storage="mcap")


@pytest.fixture(scope="module")
def render(tmp_path_factory):
    root = tmp_path_factory.mktemp("bag-meshes")
    bag = meshes_bag(root / "in.mcap")
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.WARNING)
    scene_log = logging.getLogger("vuer_ros.scene")
    scene_log.addHandler(handler)

    async def main():
        async with Renderer(W, H) as renderer:
            return await render_bag_async(
                bag, root / "out.mcap", renderer=renderer,
                options=RenderOptions.create(params={"displays.tf.enabled": False},   # no axes
                                             fixed_frame="world", eye=(0.0, -2.5, 2.5),
                                             target=(0.0, 0.0, 0.0), width=W, height=H, fov=60.0,
                                             rate=RATE, end=1.0))
    try:
        summary = asyncio.run(asyncio.wait_for(main(), 240))
    finally:
        scene_log.removeHandler(handler)
    out = read_bag(root / "out.mcap")
    return {"summary": summary, "bag": out, "log": [r.getMessage() for r in records],
            "images": [image_array(msg) for _, msg, _, _ in out["/vuer/image"]]}


def hue_mask(rgb: np.ndarray, colour) -> np.ndarray:
    """Pixels of a lit surface of a saturated colour: channel ratios, not values."""
    img = rgb.astype(np.float32)
    mx = np.maximum(img.max(axis=2), 1.0)
    ok = img.max(axis=2) >= 30
    for c, want in enumerate(colour):
        ratio = img[..., c] / mx
        ok &= ratio > 0.8 if want else ratio < 0.3
    return ok


def predicted_mask(camera: RenderCamera, parts) -> np.ndarray:
    """Union of the convex hulls of each part's projected points (pixel centres at integers)."""
    mask = np.zeros((camera.height, camera.width), np.uint8)
    for pts in parts:
        uv = camera.project(np.asarray(pts, float).reshape(-1, 3))
        cv2.fillConvexPoly(mask, cv2.convexHull((uv * 16).round().astype(np.int32)), 1, shift=4)
    return mask.astype(bool)


def check(rgb, camera, colour, parts, min_ratio=0.6):
    expected = predicted_mask(camera, parts)
    got = hue_mask(rgb, colour)
    assert got.any(), f"colour {colour} not in the image"
    want_uv = np.argwhere(expected)[:, ::-1].mean(axis=0)
    got_uv = np.argwhere(got)[:, ::-1].mean(axis=0)
    assert np.linalg.norm(got_uv - want_uv) <= 2.0, (colour, got_uv, want_uv)
    assert min_ratio <= got.sum() / expected.sum() <= 1.5, (colour, got.sum(), expected.sum())


def tube(d, a, b, n=48):
    return np.vstack([cone(d, a, b, n)[:-1], cone(d, b, a, n)[:-1]])


def cone(d, base, tip, n=48):
    base, tip = np.asarray(base, float), np.asarray(tip, float)
    axis = (tip - base) / np.linalg.norm(tip - base)
    u = np.cross(axis, [0, 0, 1] if abs(axis[2]) < 0.9 else [1, 0, 0])
    u /= np.linalg.norm(u)
    v = np.cross(axis, u)
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ring = base + d / 2 * (np.outer(np.cos(a), u) + np.outer(np.sin(a), v))
    return np.vstack([ring, tip])


def test_frames_rendered(render):
    assert render["summary"].frames == 10 and len(render["images"]) == 10


def test_arrow_strip_along_its_points(render):
    d, hd, hl = STRIP_SCALE
    parts = []
    for a, b in zip(STRIP, STRIP[1:]):
        a, b = np.array(a, float), np.array(b, float)
        neck = b - (b - a) / np.linalg.norm(b - a) * hl
        parts += [tube(d, a, neck), cone(hd, neck, b)]
    for k in (0, 9):
        check(render["images"][k], camera_from_output(render["bag"], k), MAGENTA, parts)


def test_mesh_file_dae_as_authored_then_glb_turned(render):
    camera = camera_from_output(render["bag"])
    for k in range(0, 5):      # the Y_UP COLLADA: its coordinates as authored (as rviz)
        check(render["images"][k], camera, CYAN, [CORNERS + MESH_AT])
    for k in range(6, 10):     # from 0.55 s the glTF: Y-up turned to Z-up
        check(render["images"][k], camera, CYAN, [CORNERS @ Y_UP_TO_Z_UP.T + MESH_AT])


def test_embedded_texture_quarters_where_their_uvs_put_them(render):
    camera = camera_from_output(render["bag"])
    for colour, (x0, y0) in QUARTERS.items():
        quad = np.array([[x0, y0, 0], [x0 + S, y0, 0], [x0 + S, y0 + S, 0], [x0, y0 + S, 0]]) + TEX_AT
        check(render["images"][3], camera, colour, [quad], min_ratio=0.5)


@pytest.mark.parametrize("text", [
    "marker ns=bad_tex id=1: texture_resource is 'embedded://floor.png' but texture.data (19 bytes, "
    "format 'png'): it is not a PNG or JPEG image",
    "marker ns=bad_uv id=2: uv_coordinates has 5 entries for 6 points",
    "marker ns=bad_mesh id=3: mesh_file.filename 'part.ply': its extension names no mesh format",
    "marker ns=bad_mesh id=4: mesh_file 'part.stl' is not a .stl mesh",
])
def test_bad_embedded_files_are_logged_once_with_the_key(render, text):
    assert sum(text in line for line in render["log"]) == 1, render["log"]
