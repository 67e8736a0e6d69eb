"""The real node draws what rviz would, where the camera model says: for each
marker type an object at a known pose shows up in /vuer/image where the pinhole
model from /vuer/camera_info and the camera's /tf_static put it (pixel centroid
within 2 px of the predicted silhouette's). Also: a moving TF chain moves what
hangs below it; DELETE, DELETEALL by namespace, lifetime expiry, frame_locked
versus not; camera_info, compressed image and depth agree with the image.

One node and one Chromium for the module (conftest ``node``); each test uses
its own namespace and removes its markers, so tests do not see each other.
Nothing here asserts on speed; timeouts are generous (the machine is shared).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from ros_helpers import (
    PinholeCamera,
    box_points,
    centroid,
    colour_mask,
    cone_points,
    cylinder_points,
    ellipsoid_points,
    hull_mask,
    marker,
    tf,
    transform_points,
)

IMAGE_TOPICS = ("/vuer/image", "/vuer/image/compressed", "/vuer/depth")
NODE_PARAMS = {"render.depth": True}

ARROW, CUBE, SPHERE, CYLINDER, LINE_STRIP, LINE_LIST, CUBE_LIST, SPHERE_LIST, POINTS, \
    TEXT, MESH, TRIANGLE_LIST, ARROW_STRIP = range(13)
DELETE, DELETEALL = 2, 3

RED, GREEN, BLUE = (1.0, 0.0, 0.0, 1.0), (0.0, 1.0, 0.0, 1.0), (0.0, 0.0, 1.0, 1.0)
YELLOW, MAGENTA, CYAN = (1.0, 1.0, 0.0, 1.0), (1.0, 0.0, 1.0, 1.0), (0.0, 1.0, 1.0, 1.0)
ORANGE = (1.0, 0.5, 0.0, 1.0)

POSE_XYZ = (0.3, 0.2, 0.1)
POSE_Q = (0.0, 0.0, math.sin(math.radians(15)), math.cos(math.radians(15)))  # 30 deg about Z
TOLERANCE_PX = 2.0
TIMEOUT = 30.0


def tube(d: float, a, b, n: int = 48) -> np.ndarray:
    """A cylinder of diameter d from a to b (both end rings)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.vstack([cone_points(d, a, b, n)[:-1], cone_points(d, b, a, n)[:-1]])


def camera_axes(cam: PinholeCamera) -> tuple[np.ndarray, np.ndarray]:
    """World directions of the image's right and down (optical X and Y)."""
    return cam.R[:, 0], cam.R[:, 1]


def shape_parts(mtype: int, cam: PinholeCamera) -> tuple[dict, list[np.ndarray]]:
    """(marker kwargs, convex parts in the marker frame) of a test object of each type."""
    if mtype == ARROW:   # pose form: shaft 0.77 L x scale.y, head 0.23 L x 2 scale.y
        L, w = 0.6, 0.08
        return dict(scale=(L, w, w)), [tube(w, (0, 0, 0), (0.77 * L, 0, 0)),
                                        cone_points(2 * w, (0.77 * L, 0, 0), (L, 0, 0))]
    if mtype == CUBE:
        return dict(scale=(0.3, 0.25, 0.2)), [box_points((0.3, 0.25, 0.2))]
    if mtype == SPHERE:
        return dict(scale=(0.3, 0.3, 0.3)), [ellipsoid_points((0.3, 0.3, 0.3))]
    if mtype == CYLINDER:
        return dict(scale=(0.3, 0.3, 0.25)), [cylinder_points((0.3, 0.3), 0.25)]
    if mtype == LINE_STRIP:   # a closed square outline, 3 cm wide
        s, w = 0.2, 0.03
        pts = [(-s, -s, 0), (s, -s, 0), (s, s, 0), (-s, s, 0), (-s, -s, 0)]
        return dict(scale=(w, 0, 0), points=pts), [tube(w, pts[i], pts[i + 1]) for i in range(4)]
    if mtype == LINE_LIST:    # an X
        s, w = 0.2, 0.03
        pts = [(-s, -s, 0), (s, s, 0), (-s, s, 0), (s, -s, 0)]
        return dict(scale=(w, 0, 0), points=pts), [tube(w, pts[0], pts[1]), tube(w, pts[2], pts[3])]
    if mtype in (CUBE_LIST, SPHERE_LIST):
        c = [(x, y, 0.0) for x in (-0.15, 0.15) for y in (-0.15, 0.15)]
        size = 0.1
        part = box_points((size,) * 3) if mtype == CUBE_LIST else ellipsoid_points((size,) * 3)
        return dict(scale=(size,) * 3, points=c), [part + p for p in c]
    if mtype == POINTS:       # world-size squares facing the camera
        c = [(x, y, 0.0) for x in (-0.2, -0.1, 0.0, 0.1, 0.2) for y in (-0.1, 0.0, 0.1)]
        s = 0.05
        right, down = camera_axes(cam)
        square = np.array([sx * right + sy * down for sx in (-s / 2, s / 2) for sy in (-s / 2, s / 2)])
        return dict(scale=(s, s, 0), points=c), [np.asarray(p) + square for p in c]
    if mtype == TEXT:         # cap height 0.3; anchored at the middle of the capitals
        return dict(scale=(0, 0, 0.3), text="H"), []
    if mtype == MESH:         # the 1 m STL cube, scaled
        return dict(scale=(0.3, 0.25, 0.2)), [box_points((0.3, 0.25, 0.2))]
    if mtype == TRIANGLE_LIST:   # a flat square of two triangles
        s = 0.2
        pts = [(-s, -s, 0), (s, -s, 0), (s, s, 0), (-s, -s, 0), (s, s, 0), (-s, s, 0)]
        return dict(scale=(1, 1, 1), points=pts), [np.array(pts, float)]
    if mtype == ARROW_STRIP:   # two arrows along X: shaft 4 cm, head 10 cm wide, 8 cm long
        pts = [(-0.3, 0, 0), (0, 0, 0), (0.3, 0, 0)]
        d, hd, hl = 0.04, 0.1, 0.08
        parts = []
        for a, b in ((pts[0], pts[1]), (pts[1], pts[2])):
            a, b = np.array(a, float), np.array(b, float)
            neck = b - (b - a) / np.linalg.norm(b - a) * hl
            parts += [tube(d, a, neck), cone_points(hd, neck, b)]
        return dict(scale=(d, hd, hl), points=pts), parts
    raise AssertionError(mtype)


def wait_visible(client, colour, min_px: int = 20, after: float | None = None,
                 timeout: float = TIMEOUT, what: str = ""):
    return client.wait_image(lambda im: (m := colour_mask(im.rgb, colour)).sum() >= min_px and m,
                             timeout=timeout, after=after, what=what or f"colour {colour} visible")


def wait_gone(client, colour, after: float | None = None, timeout: float = TIMEOUT, what: str = ""):
    return client.wait_image(lambda im: colour_mask(im.rgb, colour).sum() < 3, timeout=timeout,
                             after=after, what=what or f"colour {colour} gone")


def delete_ns(client, ns: str) -> None:
    client.marker_pub.publish(marker(ns, 0, CUBE, action=DELETEALL))


@pytest.fixture(scope="module")
def client(node):
    c = node.client
    c.wait_subscribers(c.marker_pub)
    c.wait_subscribers(c.tf_pub)
    c.wait_subscribers(c.array_pub)
    c.image_after(0.0, timeout=60.0)   # the renderer is up
    return c


@pytest.fixture(scope="module")
def cam(client) -> PinholeCamera:
    return client.camera()


TYPES = [ARROW, CUBE, SPHERE, CYLINDER, LINE_STRIP, LINE_LIST, CUBE_LIST, SPHERE_LIST, POINTS,
         TEXT, MESH, TRIANGLE_LIST, ARROW_STRIP]
NAMES = ["arrow", "cube", "sphere", "cylinder", "line_strip", "line_list", "cube_list",
         "sphere_list", "points", "text", "mesh", "triangle_list", "arrow_strip"]
PALETTE = [RED, GREEN, BLUE, YELLOW, MAGENTA, CYAN]


@pytest.mark.parametrize("mtype", TYPES, ids=NAMES)
def test_marker_type_lands_where_the_camera_model_puts_it(node, client, cam, mtype):
    colour = PALETTE[mtype % len(PALETTE)]
    ns = f"geo_{NAMES[mtype]}"
    kwargs, parts = shape_parts(mtype, cam)
    if mtype == MESH:
        kwargs["mesh_resource"] = f"file://{node.mesh_dir}/cube.stl"
    published = time.monotonic()
    stamp = client.now()
    client.marker_pub.publish(marker(ns, 1, mtype, xyz=POSE_XYZ, q=POSE_Q, rgba=colour, **kwargs))
    if parts:
        world = [transform_points(p, POSE_XYZ, POSE_Q) for p in parts]
        expected = hull_mask(cam, world)
        want_u, want_v = centroid(expected)
        min_px = max(20, int(0.6 * expected.sum()))
    else:   # text: the anchor (middle of the capitals) projects to the glyph's centre
        (want_u, want_v), = cam.project(np.array(POSE_XYZ))
        min_px = 20
    im, mask = wait_visible(client, colour, min_px, after=published,
                            what=f"{NAMES[mtype]} marker (>= {min_px} px of {colour})")
    got_u, got_v = centroid(mask)
    err = math.hypot(got_u - want_u, got_v - want_v)
    assert err <= TOLERANCE_PX, (f"{NAMES[mtype]}: centroid ({got_u:.2f}, {got_v:.2f}) px, "
                                 f"predicted ({want_u:.2f}, {want_v:.2f}): {err:.2f} px off; "
                                 f"{mask.sum()} px found")
    if parts:
        assert 0.6 <= mask.sum() / expected.sum() <= 1.5, (mask.sum(), expected.sum())
    # the image that shows it is stamped with the drain that sent it, after the publish
    stamp_ns = stamp.sec * 1_000_000_000 + stamp.nanosec
    assert im.stamp_ns >= stamp_ns - 50_000_000
    after = time.monotonic()
    client.marker_pub.publish(marker(ns, 1, mtype, action=DELETE))
    wait_gone(client, colour, after=after)


def test_moving_tf_chain_moves_what_hangs_below(client, cam):
    base = (-0.5, 0.0, 0.0)
    client.publish_tf(tf("map", "chain_a", base, stamp=client.now()),
                      tf("chain_a", "chain_b", (0.0, 0.3, 0.0), stamp=client.now()))
    t = time.monotonic()
    client.marker_pub.publish(marker("chain", 1, CUBE, frame="chain_b", scale=(0.2, 0.2, 0.2),
                                     rgba=ORANGE, frame_locked=True))
    box = box_points((0.2, 0.2, 0.2))

    def check(expect_xyz, after, what):
        expected = centroid(hull_mask(cam, [box + np.asarray(expect_xyz)]))
        im, mask = client.wait_image(
            lambda im: (m := colour_mask(im.rgb, ORANGE)).sum() > 40 and math.hypot(
                *(np.subtract(centroid(m), expected))) <= TOLERANCE_PX,
            timeout=TIMEOUT, after=after, what=what)
        return im

    check((-0.5, 0.3, 0.0), t, "the cube on chain_b at its first place")
    # move the link above: the cube follows
    t = time.monotonic()
    client.publish_tf(tf("map", "chain_a", (0.4, -0.2, 0.0), stamp=client.now()))
    check((0.4, 0.1, 0.0), t, "the cube after chain_a moved")
    # turn the link above by 90 degrees: chain_b's offset (0, 0.3) turns to (-0.3, 0)
    t = time.monotonic()
    q = (0.0, 0.0, math.sin(math.pi / 4), math.cos(math.pi / 4))
    client.publish_tf(tf("map", "chain_a", (0.4, -0.2, 0.0), q, stamp=client.now()))
    check((0.1, -0.2, 0.0), t, "the cube after chain_a turned")
    t = time.monotonic()
    delete_ns(client, "chain")
    wait_gone(client, ORANGE, after=t)


def test_delete_and_deleteall_by_namespace(client):
    t = time.monotonic()
    client.marker_pub.publish(marker("del_keep", 1, CUBE, xyz=(-0.5, 0, 0), scale=(0.2,) * 3, rgba=BLUE))
    client.marker_pub.publish(marker("del_drop", 1, CUBE, xyz=(0.5, 0, 0), scale=(0.2,) * 3, rgba=RED))
    client.marker_pub.publish(marker("del_drop", 2, SPHERE, xyz=(0.5, 0.5, 0), scale=(0.2,) * 3, rgba=RED))
    client.marker_pub.publish(marker("del_one", 7, CUBE, xyz=(0, -0.6, 0), scale=(0.2,) * 3, rgba=GREEN))
    client.wait_image(lambda im: all(colour_mask(im.rgb, c).sum() > 40 for c in (BLUE, RED, GREEN)),
                      timeout=TIMEOUT, after=t, what="the four markers")
    # DELETE one (ns, id)
    t = time.monotonic()
    client.marker_pub.publish(marker("del_one", 7, CUBE, action=DELETE))
    client.wait_image(lambda im: colour_mask(im.rgb, GREEN).sum() < 3 and
                      colour_mask(im.rgb, RED).sum() > 40, timeout=TIMEOUT, after=t,
                      what="the deleted marker gone, the others still there")
    # DELETEALL with a namespace: only that namespace goes
    t = time.monotonic()
    delete_ns(client, "del_drop")
    im, _ = client.wait_image(lambda im: colour_mask(im.rgb, RED).sum() < 3, timeout=TIMEOUT,
                              after=t, what="namespace del_drop gone")
    assert colour_mask(im.rgb, BLUE).sum() > 40, "DELETEALL of another namespace removed del_keep"
    # DELETEALL without a namespace: everything goes
    t = time.monotonic()
    client.marker_pub.publish(marker("", 0, CUBE, action=DELETEALL))
    wait_gone(client, BLUE, after=t, what="everything gone after DELETEALL with an empty ns")


def test_lifetime_expires(client):
    t = time.monotonic()
    client.marker_pub.publish(marker("life", 1, SPHERE, xyz=(0.0, 0.5, 0.0), scale=(0.25,) * 3,
                                     rgba=MAGENTA, lifetime=1.5))
    im, _ = wait_visible(client, MAGENTA, 40, after=t, what="a marker with a 1.5 s lifetime")
    gone, _ = wait_gone(client, MAGENTA, after=im.received, what="the marker expired")
    # never before its lifetime (counted from when the node received it, a little after t)
    assert gone.received - t >= 1.4, f"gone after {gone.received - t:.2f} s"


def test_frame_locked_follows_unlocked_stays(client, cam):
    client.publish_tf(tf("map", "mover", (-0.5, 0.0, 0.0), stamp=client.now()))
    t = time.monotonic()
    client.wait_for(lambda: True, 0.1, "")
    client.marker_pub.publish(marker("lock", 1, CUBE, frame="mover", xyz=(0, 0.3, 0),
                                     scale=(0.2,) * 3, rgba=MAGENTA, frame_locked=True))
    client.marker_pub.publish(marker("lock", 2, CUBE, frame="mover", xyz=(0, -0.3, 0),
                                     scale=(0.2,) * 3, rgba=CYAN, frame_locked=False))
    box = box_points((0.2, 0.2, 0.2))

    def at(colour, xyz):
        expected = centroid(hull_mask(cam, [box + np.asarray(xyz)]))

        def ok(im):
            m = colour_mask(im.rgb, colour)
            return m.sum() > 40 and math.hypot(*np.subtract(centroid(m), expected)) <= TOLERANCE_PX
        return ok

    client.wait_image(lambda im: at(MAGENTA, (-0.5, 0.3, 0))(im) and at(CYAN, (-0.5, -0.3, 0))(im),
                      timeout=TIMEOUT, after=t, what="both markers at mover's first place")
    t = time.monotonic()
    client.publish_tf(tf("map", "mover", (0.5, 0.0, 0.0), stamp=client.now()))
    client.wait_image(lambda im: at(MAGENTA, (0.5, 0.3, 0))(im) and at(CYAN, (-0.5, -0.3, 0))(im),
                      timeout=TIMEOUT, after=t,
                      what="frame_locked marker moved with mover, the other one stayed")
    t = time.monotonic()
    delete_ns(client, "lock")
    wait_gone(client, MAGENTA, after=t)


def test_camera_info_compressed_and_depth_agree_with_the_image(client, cam):
    info = client.camera_info
    assert info.header.frame_id == "vuer_camera_optical"
    assert (info.width, info.height) == (400, 300)
    f = (300 / 2) / math.tan(math.radians(50.0) / 2)
    assert np.allclose(info.k, [f, 0, 199.5, 0, f, 149.5, 0, 0, 1])
    assert np.allclose(info.p, [f, 0, 199.5, 0, 0, f, 149.5, 0, 0, 0, 1, 0])
    assert info.distortion_model == "plumb_bob" and list(info.d) == [0.0] * 5
    # the camera's TF: at render.eye, looking at render.target (optical Z towards it)
    assert np.allclose(cam.position, [1.0, -2.0, 4.0])
    z = cam.R[:, 2]
    assert np.allclose(z, -np.array([1.0, -2.0, 4.0]) / np.linalg.norm([1.0, -2.0, 4.0]))
    assert np.allclose(cam.project(np.zeros(3)), [[199.5, 149.5]])

    t = time.monotonic()
    xyz, size = (0.2, -0.1, 0.0), 0.4
    client.marker_pub.publish(marker("agree", 1, CUBE, xyz=xyz, scale=(size,) * 3, rgba=YELLOW))
    im, _ = wait_visible(client, YELLOW, 200, after=t)
    # the compressed image and the depth image with the same stamp
    comp, _ = client.wait_image(lambda c: c.stamp_ns >= im.stamp_ns, topic="/vuer/image/compressed",
                                timeout=TIMEOUT, after=0.0, what="a compressed image")
    dep, _ = client.wait_image(lambda d: d.stamp_ns >= im.stamp_ns, topic="/vuer/depth",
                               timeout=TIMEOUT, after=0.0, what="a depth image")
    import cv2
    jpeg = cv2.cvtColor(cv2.imdecode(np.frombuffer(bytes(comp.msg.data), np.uint8), cv2.IMREAD_COLOR),
                        cv2.COLOR_BGR2RGB)
    assert jpeg.shape == (300, 400, 3)
    assert comp.msg.format.startswith("rgb8; jpeg")
    assert colour_mask(jpeg, YELLOW).sum() > 150
    # depth along the optical axis at the pixel of the top face's centre
    top = np.array([xyz[0], xyz[1], xyz[2] + size / 2])
    (u, v), = cam.project(top)
    d = dep.depth
    assert dep.msg.encoding == "32FC1" and d.shape == (300, 400)
    got = float(d[int(round(v)), int(round(u))])
    assert abs(got - cam.depth_of(top)) < 0.02, (got, cam.depth_of(top))
    assert np.isinf(d[2, 2]) or d[2, 2] > 50   # background: nothing hit
    t = time.monotonic()
    delete_ns(client, "agree")
    wait_gone(client, YELLOW, after=t)


def test_image_stamps_increase_and_pair_with_camera_info(client):
    t = time.monotonic()
    client.wait_for(lambda: len([i for i in client.images["/vuer/image"] if i.received > t]) >= 5,
                    TIMEOUT, "five more images")
    stamps = [i.stamp_ns for i in client.images["/vuer/image"] if i.received > t]
    assert all(b > a for a, b in zip(stamps, stamps[1:])), stamps
    info = client.camera_info
    info_ns = info.header.stamp.sec * 1_000_000_000 + info.header.stamp.nanosec
    assert info_ns in {i.stamp_ns for i in client.images["/vuer/image"]}
