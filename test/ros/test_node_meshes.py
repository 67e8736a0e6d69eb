"""Markers beyond rviz through the real node, by pixels against the pinhole model from
/vuer/camera_info and TF: ARROW_STRIP along bent points, MESH_RESOURCE drawn from the
bytes of mesh_file (STL, OBJ, COLLADA with either up axis, binary glTF), TRIANGLE_LIST
with an embedded texture and uv_coordinates; rviz's axes (a COLLADA file's coordinates
as authored, glTF turned from Y-up to Z-up). Bad embedded files are logged once with
the marker's key while the other markers flow.

One node and one Chromium for the module (conftest ``node``); each test uses its own
namespace and removes its markers.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from meshes import collada_bytes, cuboid, glb_bytes, obj_bytes, quadrants_png, stl_bytes
from ros_helpers import centroid, colour_mask, cone_points, hull_mask, marker, transform_points

ARROW_STRIP, MESH, TRIANGLE_LIST, CUBE = 12, 10, 11, 1
DELETE = 2
RED, GREEN, BLUE, YELLOW = (1.0, 0.0, 0.0, 1.0), (0.0, 1.0, 0.0, 1.0), (0.0, 0.0, 1.0, 1.0), (1.0, 1.0, 0.0, 1.0)
MAGENTA, CYAN = (1.0, 0.0, 1.0, 1.0), (0.0, 1.0, 1.0, 1.0)
POSE_XYZ = (0.2, -0.1, 0.1)
POSE_Q = (0.0, 0.0, math.sin(math.radians(15)), math.cos(math.radians(15)))  # 30 deg about Z
TOLERANCE_PX = 2.0
TIMEOUT = 30.0
REPEATS = 3

# a cuboid off the origin along +Y: turned by an up-axis conversion it would stand up
LO, HI = (-0.1, 0.05, -0.05), (0.1, 0.45, 0.05)
SHAPE = cuboid(LO, HI)
CORNERS = np.array([[x, y, z] for x in (LO[0], HI[0]) for y in (LO[1], HI[1]) for z in (LO[2], HI[2])])
Y_UP_TO_Z_UP = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]])   # +90 deg about X: (x, y, z) -> (x, -z, y)
# name -> (mesh_file.filename, bytes, where the authored corners land in the marker frame)
MESH_FILES = {
    "stl": ("part.stl", stl_bytes(*SHAPE), CORNERS),
    "obj": ("part.obj", obj_bytes(*SHAPE), CORNERS),
    "dae_y_up": ("part.dae", collada_bytes(*SHAPE, "Y_UP"), CORNERS),   # rviz: as authored
    "dae_z_up": ("part.dae", collada_bytes(*SHAPE, "Z_UP"), CORNERS),
    "glb": ("part.glb", glb_bytes(*SHAPE), CORNERS @ Y_UP_TO_Z_UP.T),     # glTF is Y-up: turned
}


@pytest.fixture(scope="module")
def client(node):
    c = node.client
    for pub in (c.marker_pub, c.tf_pub, c.array_pub):
        c.wait_subscribers(pub)
    c.image_after(0.0, timeout=60.0)
    return c


@pytest.fixture(scope="module")
def cam(client):
    return client.camera()


def with_mesh_file(m, filename: str, data: bytes):
    m.mesh_file.filename = filename
    m.mesh_file.data = data
    return m


def with_texture(m, uvs, data: bytes, resource: str = "embedded://floor.png", fmt: str = "png"):
    from visualization_msgs.msg import UVCoordinate
    m.texture_resource = resource
    m.texture.format = fmt
    m.texture.data = data
    m.uv_coordinates = [UVCoordinate(u=float(u), v=float(v)) for u, v in uvs]
    return m


def lands_where_predicted(client, cam, colour, parts, after, what: str, min_ratio: float = 0.6):
    """Wait for an image where ``colour`` covers the predicted silhouette of ``parts``
    (world points of convex parts): centroid within 2 px, area within 0.6-1.5 of it."""
    expected = hull_mask(cam, parts)
    want = centroid(expected)

    def ok(im):
        m = colour_mask(im.rgb, colour)
        return (min_ratio * expected.sum() <= m.sum() <= 1.5 * expected.sum()
                and math.hypot(*np.subtract(centroid(m), want)) <= TOLERANCE_PX and m)
    im, mask = client.wait_image(ok, timeout=TIMEOUT, after=after, what=what)
    return mask


def gone(client, colour, after):
    client.wait_image(lambda im: colour_mask(im.rgb, colour).sum() < 3, timeout=TIMEOUT, after=after,
                      what=f"colour {colour} gone")


def test_arrow_strip_draws_an_arrow_along_each_bent_segment(client, cam):
    """rviz proportions: scale.x shaft diameter, scale.y head diameter, scale.z head length
    (clamped to the segment); a segment shorter than the head is all head."""
    pts = [(-0.4, -0.2, 0.0), (0.0, -0.2, 0.0), (0.0, 0.3, 0.0), (0.05, 0.3, 0.0)]
    d, hd, hl = 0.05, 0.12, 0.1
    parts = []
    for a, b in zip(pts, pts[1:]):
        a, b = np.array(a, float), np.array(b, float)
        length = np.linalg.norm(b - a)
        neck = b - (b - a) / length * min(hl, length)
        if np.linalg.norm(neck - a) > 1e-9:
            parts.append(np.vstack([cone_points(d, a, neck)[:-1], cone_points(d, neck, a)[:-1]]))
        parts.append(cone_points(hd, neck, b))
    t = time.monotonic()
    client.marker_pub.publish(marker("strip", 1, ARROW_STRIP, xyz=POSE_XYZ, q=POSE_Q, rgba=MAGENTA,
                                     scale=(d, hd, hl), points=pts))
    lands_where_predicted(client, cam, MAGENTA, [transform_points(p, POSE_XYZ, POSE_Q) for p in parts],
                          t, "the bent ARROW_STRIP")
    t = time.monotonic()
    client.marker_pub.publish(marker("strip", 1, ARROW_STRIP, action=DELETE))
    gone(client, MAGENTA, t)


@pytest.mark.parametrize("name", list(MESH_FILES))
def test_mesh_file_bytes_land_where_rviz_puts_the_authored_coordinates(client, cam, name):
    filename, data, corners = MESH_FILES[name]
    ns = f"mesh_file_{name}"
    t = time.monotonic()
    client.marker_pub.publish(with_mesh_file(
        marker(ns, 1, MESH, xyz=POSE_XYZ, q=POSE_Q, rgba=CYAN), filename, data))
    try:
        lands_where_predicted(client, cam, CYAN, [transform_points(corners, POSE_XYZ, POSE_Q)], t,
                              f"the {name} mesh from mesh_file")
    finally:   # the next format starts from an empty view even when this one failed
        t = time.monotonic()
        client.marker_pub.publish(marker(ns, 1, MESH, action=DELETE))
        gone(client, CYAN, t)


def test_embedded_texture_maps_uv_coordinates_as_rviz(client, cam):
    """A 0.6 m square textured with four colours: uv (0, 0) is the image's top-left corner
    (red), v runs down the image, so each colour covers the quarter its uvs name."""
    s = 0.3
    square = [(-s, -s, 0), (s, -s, 0), (s, s, 0), (-s, -s, 0), (s, s, 0), (-s, s, 0)]
    uvs = [(0, 1), (1, 1), (1, 0), (0, 1), (1, 0), (0, 0)]    # +y of the square = top of the image
    quarters = {RED: (-s, 0.0), GREEN: (0.0, 0.0), BLUE: (-s, -s), YELLOW: (0.0, -s)}
    t = time.monotonic()
    client.marker_pub.publish(with_texture(
        marker("textured", 1, TRIANGLE_LIST, xyz=POSE_XYZ, q=POSE_Q, rgba=(1, 1, 1, 1), points=square),
        uvs, quadrants_png()))
    for colour, (x0, y0) in quarters.items():
        quad = np.array([[x0, y0, 0], [x0 + s, y0, 0], [x0 + s, y0 + s, 0], [x0, y0 + s, 0]])
        lands_where_predicted(client, cam, colour, [transform_points(quad, POSE_XYZ, POSE_Q)], t,
                              f"the {colour} quarter of the texture", min_ratio=0.5)
    t = time.monotonic()
    client.marker_pub.publish(marker("textured", 1, TRIANGLE_LIST, action=DELETE))
    gone(client, GREEN, t)


def logged_once(node, pattern: str) -> None:
    node.viewer.wait_for_line(pattern, timeout=TIMEOUT)
    n = node.viewer.count(pattern)
    assert n == 1, f"{pattern!r} logged {n} times; log tail:\n{node.viewer.tail(30)}"


def test_bad_embedded_files_are_logged_once_while_other_markers_flow(node, client, cam):
    from visualization_msgs.msg import MarkerArray
    s = 0.2
    square = [(-s, -s, 0), (s, -s, 0), (s, s, 0), (-s, -s, 0), (s, s, 0), (-s, s, 0)]
    uvs = [(0, 1), (1, 1), (1, 0), (0, 1), (1, 0), (0, 0)]
    bad = [
        # textures: the triangles are drawn without them (as rviz does for a wrong uv count)
        with_texture(marker("bad_tex", 1, TRIANGLE_LIST, xyz=(-0.5, 0.4, 0), rgba=RED, points=square),
                     uvs, b"these bytes are no image" * 4, fmt="jpeg"),
        with_texture(marker("bad_uv", 2, TRIANGLE_LIST, xyz=(0.5, 0.4, 0), rgba=GREEN, points=square),
                     uvs[:4], quadrants_png()),
        # meshes: refused
        with_mesh_file(marker("bad_mesh", 3, MESH, rgba=BLUE), "part.ply", stl_bytes(*SHAPE)),
        with_mesh_file(marker("bad_mesh", 4, MESH, rgba=BLUE), "part.glb", b"\x01garbage" * 50),
    ]
    box = np.array([[x, y, z] for x in (-0.1, 0.1) for y in (-0.1, 0.1) for z in (-0.1, 0.1)])
    t = time.monotonic()
    for _ in range(REPEATS):
        # the good cube comes after the bad markers in the same array: it is shown
        good = marker("good_after_bad", 1, CUBE, xyz=(0.0, -0.5, 0.1), scale=(0.2,) * 3, rgba=YELLOW)
        client.array_pub.publish(MarkerArray(markers=bad + [good]))
        time.sleep(0.05)
    lands_where_predicted(client, cam, YELLOW, [box + np.array([0.0, -0.5, 0.1])], t,
                          "the good cube published with the bad markers")
    for colour, x in ((RED, -0.5), (GREEN, 0.5)):
        quad = np.array([[x - s, 0.4 - s, 0], [x + s, 0.4 - s, 0], [x + s, 0.4 + s, 0], [x - s, 0.4 + s, 0]])
        lands_where_predicted(client, cam, colour, [quad], t, f"the untextured {colour} triangles")
    assert colour_mask(client.latest().rgb, BLUE).sum() == 0
    logged_once(node, r"marker ns=bad_tex id=1: texture_resource is 'embedded://floor.png' but "
                      r"texture.data \(96 bytes, format 'jpeg'\): it is not a PNG or JPEG image")
    logged_once(node, r"marker ns=bad_uv id=2: uv_coordinates has 4 entries for 6 points")
    logged_once(node, r"marker ns=bad_mesh id=3: mesh_file.filename 'part.ply': its extension names "
                      r"no mesh format")
    logged_once(node, r"marker ns=bad_mesh id=4: mesh_file 'part.glb' is not a .glb mesh")
    t = time.monotonic()
    client.marker_pub.publish(marker("", 0, CUBE, action=3))
    gone(client, YELLOW, t)
