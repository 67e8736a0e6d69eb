"""Compatibility with the real Vuer browser client (the one bundled in the
``vuer`` wheel, folder ``vuer/client_build``): our server serves that client,
headless Chromium runs it, our elements make the scene, and a ``grab_render``
JPEG must show the objects where the pinhole model puts them.

How the camera is known: the Vuer client reports its camera only from a camera
control with ``stream`` on (``SceneCameraControl(stream=True)``), as a
``CAMERA_MOVE`` event. Our ``DefaultScene`` has no Vuer camera elements, so the
scene adds two Vuer-only nodes to ``bgChildren`` as plain dicts (our client
ignores unknown tags): ``SceneCamera`` (pose + fov, so the view is known to
hold the objects) and ``SceneCameraControl(stream=True)``. The expected image
positions are computed from the pose the client *reports* (position,
quaternion, fov, zoom, size), not from what we asked for.

Offline, the Vuer client fails to fetch HDRIs from CDNs; it must still
render primitives. It also draws an axes gizmo at the orbit target (a red
"X" disc among others), so the red box is found as the largest red blob and
the objects are placed away from the origin.

The server tells the Vuer client by its INIT and sends it the scene in its form
(vuer_ros/protocol/vuer_client.py: float16 vertices re-centred, TriMesh faces,
CubeList/SphereList as one TriMesh, list Line points, Text with a font it loads
offline, ...). The second test builds every rviz marker type (0-12) with the
node's own marker code and checks each in the Vuer client 0.0.102 (pkg
``@vuer-ai/vuer``) against the pinhole model: solids by silhouette (centroid and
IoU), lines by their projected width, points one by one, text by its anchor and
the height of its capitals.
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import math
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from vuer_ros.protocol import ClientEvent
from vuer_ros.render.browser import HeadlessBrowser
from vuer_ros.render.camera import RenderCamera, quat_multiply, quat_to_matrix
from vuer_ros.schemas import Box, DefaultScene, Group, MarkerList, Sphere
from vuer_ros.server import VuerServer, VuerSession

# three.js camera frame -> optical frame: turn 180 degrees about X (camera.py's convention)
THREE_TO_OPTICAL = (1.0, 0.0, 0.0, 0.0)

TEST_TIMEOUT = 30.0
CAMERA_EYE, CAMERA_TARGET, CAMERA_FOV = [3.0, 2.0, 2.0], [0.0, 0.0, 0.0], 50.0

# Group nesting: base (90 deg about Z) > arm (30 deg about X) > red box
BASE_POS, BASE_QUAT = [0.2, -0.1, 0.0], [0.0, 0.0, math.sin(math.pi / 4), math.cos(math.pi / 4)]
ARM_POS, ARM_QUAT = [-0.9, -0.3, 0.3], [math.sin(math.pi / 12), 0.0, 0.0, math.cos(math.pi / 12)]
BOX_POS, BOX_SIZE = [0.0, 0.0, 0.1], [0.5, 0.5, 0.5]
SPHERE_POS, SPHERE_RADIUS = [-0.3, 1.0, 0.3], 0.25

CENTROID_TOLERANCE_PX = 3.0
MIN_IOU = 0.8


def vuer_client_dir() -> Path | None:
    """The client bundled in the vuer wheel, found without importing vuer."""
    spec = importlib.util.find_spec("vuer")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "client_build"
    return path if (path / "index.html").is_file() else None


def vuer_camera_nodes() -> list[dict[str, Any]]:
    """Vuer-only scene nodes: a known view, and a control that streams CAMERA_MOVE."""
    return [
        {"tag": "SceneCamera", "key": "SceneCamera", "position": CAMERA_EYE, "lookAt": CAMERA_TARGET,
         "fov": CAMERA_FOV},
        {"tag": "SceneCameraControl", "key": "SceneCameraControl", "makeDefault": True, "stream": True},
    ]


# -- geometry: world poses through the Group chain ---------------------------------------------
def pose_matrix(position: list[float], quaternion: list[float]) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = quat_to_matrix(quaternion)
    m[:3, 3] = position
    return m


def box_corners_world() -> np.ndarray:
    world = (pose_matrix(BASE_POS, BASE_QUAT) @ pose_matrix(ARM_POS, ARM_QUAT)
             @ pose_matrix(BOX_POS, [0.0, 0.0, 0.0, 1.0]))
    half = np.asarray(BOX_SIZE) / 2
    corners = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]) * half
    return corners @ world[:3, :3].T + world[:3, 3]


def sphere_points_world(n: int = 400) -> np.ndarray:
    rng = np.random.default_rng(0)
    directions = rng.normal(size=(n, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    return np.asarray(SPHERE_POS) + SPHERE_RADIUS * directions


def scene() -> DefaultScene:
    return DefaultScene(
        Group(
            Group(
                Box(key="red-box", args=BOX_SIZE, position=BOX_POS, material={"color": "red"}),
                key="arm", position=ARM_POS, quaternion=ARM_QUAT,
            ),
            key="base", position=BASE_POS, quaternion=BASE_QUAT,
        ),
        Sphere(key="magenta-sphere", args=[SPHERE_RADIUS, 48, 24], position=SPHERE_POS,
               material={"color": "#ff00ff"}),
        bgChildren=vuer_camera_nodes(),
        grid=False,  # nothing but the two objects and the lights
    )


# -- the camera the client reports -------------------------------------------------------------
def render_camera_from_event(camera: dict[str, Any], frame_width: int, frame_height: int) -> RenderCamera:
    """RenderCamera for a frame of the given size from a CAMERA_MOVE ``value.camera``.

    The frame is the canvas in device pixels (CSS size * dpr, / downsample): the
    vertical fov holds at any scale, so only the size changes."""
    assert camera.get("ctype", "perspective") == "perspective", f"camera is not perspective: {camera}"
    zoom = float(camera.get("zoom") or 1.0)
    fov = math.degrees(2 * math.atan(math.tan(math.radians(float(camera["fov"])) / 2) / zoom))
    optical = quat_multiply(camera["quaternion"], THREE_TO_OPTICAL)
    return RenderCamera(width=frame_width, height=frame_height, fov_y=fov, near=float(camera["near"]),
                        far=float(camera["far"]), position=np.asarray(camera["position"], float),
                        orientation=optical)


# -- finding the objects in the image ----------------------------------------------------------
def hue_mask(bgr: np.ndarray, hues: list[tuple[int, int]]) -> np.ndarray:
    """Saturated pixels with an OpenCV hue (0-179) in any of the ranges."""
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    in_hue = np.zeros(h.shape, bool)
    for lo, hi in hues:
        in_hue |= (h >= lo) & (h <= hi)
    return in_hue & (s >= 150) & (v >= 60)


def largest_blob(mask: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros_like(mask)
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return labels == biggest


def centroid(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean(), ys.mean()])


def expected_silhouette(uv: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Filled convex hull of projected points (sub-pixel exact, pixel centres at integers)."""
    hull = cv2.convexHull(np.round(uv * 16).astype(np.int32))
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, hull, 1, lineType=cv2.LINE_8, shift=4)
    return mask.astype(bool)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 0.0


# -- the browser side ----------------------------------------------------------------------------
class CameraMoves:
    """Collects CAMERA_MOVE events from one session."""

    def __init__(self, server: VuerServer) -> None:
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.arrived = asyncio.Event()
        self.session: VuerSession | None = None
        self.remove = server.on("CAMERA_MOVE", self._on)

    def _on(self, event: ClientEvent, session: VuerSession) -> None:
        value = event.value if isinstance(event.value, dict) else {}
        camera = value.get("camera")
        if isinstance(camera, dict) and (self.session is None or session is self.session):
            self.events.append((time.monotonic(), camera))
            self.arrived.set()

    async def settled(self, quiet: float = 0.4, timeout: float = 10.0) -> dict[str, Any]:
        """The latest camera once none has arrived for ``quiet`` seconds."""
        try:
            await asyncio.wait_for(self.arrived.wait(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"the Vuer client sent no CAMERA_MOVE within {timeout} s; it sends one only from a camera "
                "control with stream=True (SceneCameraControl in bgChildren)") from None
        while time.monotonic() - self.events[-1][0] < quiet:
            await asyncio.sleep(quiet / 4)
        return self.events[-1][1]


async def grab_jpeg(session: VuerSession) -> tuple[bytes, dict[str, Any], np.ndarray]:
    response = await session.grab_render(quality=0.95, downsample=1, ttl=5.0)
    value = response.value
    assert isinstance(value, dict) and isinstance(value.get("frame"), bytes), \
        f"GRAB_RENDER answer has no JPEG frame: { {k: type(v).__name__ for k, v in (value or {}).items()} }"
    image = cv2.imdecode(np.frombuffer(value["frame"], np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "the frame is not a decodable JPEG"
    return value["frame"], value, image


def describe(name: str, found: np.ndarray, expected: np.ndarray, camera: RenderCamera) -> str:
    at = np.round(centroid(found), 1).tolist() if found.any() else None
    return (f"{name}: found {int(found.sum())} px centred at {at}, "
            f"expected {int(expected.sum())} px centred at {np.round(centroid(expected), 1).tolist()} "
            f"(camera {camera.width}x{camera.height} fov_y {camera.fov_y:.2f} at "
            f"{np.round(camera.position, 3).tolist()})")


async def render_in_vuer_client(client_dir: Path, tmp_path: Path) -> dict[str, Any]:
    async with VuerServer(port=0, client_dir=client_dir) as server:
        moves = CameraMoves(server)
        server.set @ scene()
        async with HeadlessBrowser(server, 640, 480, restart=False, start_timeout=20.0) as browser:
            session = browser.session
            moves.session = session
            camera_event = await moves.settled()
            # the scene may mount a little after the camera: grab until both objects show
            for _ in range(6):
                jpeg, value, image = await grab_jpeg(session)
                red = largest_blob(hue_mask(image, [(0, 8), (172, 179)]))
                magenta = largest_blob(hue_mask(image, [(140, 160)]))
                if red.sum() > 200 and magenta.sum() > 200:
                    break
                await asyncio.sleep(0.5)
            camera_after = moves.events[-1][1]
            return {"jpeg": jpeg, "value": value, "image": image, "red": red, "magenta": magenta,
                    "camera": camera_event, "camera_after": camera_after, "info": session.info}


def test_vuer_client_renders_our_scene_where_the_pinhole_model_says(tmp_path: Path) -> None:
    client_dir = vuer_client_dir()
    if client_dir is None:
        pytest.skip("the vuer package (with its bundled client_build) is not installed")
    started = time.monotonic()
    result = asyncio.run(asyncio.wait_for(render_in_vuer_client(client_dir, tmp_path), TEST_TIMEOUT))
    image, value, camera_event = result["image"], result["value"], result["camera"]
    jpeg_path = tmp_path / "vuer_client_grab.jpg"
    jpeg_path.write_bytes(result["jpeg"])
    print(f"\nVuer client {result['info'].get('pkg')} {result['info'].get('pkgVersion')}: grabbed "
          f"{image.shape[1]}x{image.shape[0]} in {time.monotonic() - started:.1f} s -> {jpeg_path}")

    # the camera the client reports: the one we asked for, still
    assert result["camera_after"] == camera_event, \
        f"the Vuer camera moved during the grab: {camera_event} -> {result['camera_after']}"
    assert np.allclose(camera_event["position"], CAMERA_EYE, atol=1e-3), \
        f"CAMERA_MOVE position {camera_event['position']} is not the SceneCamera's {CAMERA_EYE}"
    assert np.allclose(camera_event["matrix"][12:15], camera_event["position"], atol=1e-6)

    # frame size: canvas CSS size (CAMERA_MOVE width/height) * dpr
    height, width = image.shape[:2]
    dpr = float(value.get("dpr") or 1.0)
    assert (value.get("width"), value.get("height")) == (width, height), \
        f"response says {value.get('width')}x{value.get('height')}, the JPEG is {width}x{height}"
    assert abs(width - camera_event["width"] * dpr) <= 1 and abs(height - camera_event["height"] * dpr) <= 1, \
        f"frame {width}x{height} is not the canvas {camera_event['width']}x{camera_event['height']} * dpr {dpr}"
    assert abs(camera_event["aspect"] - width / height) < 0.01, \
        f"camera aspect {camera_event['aspect']} != frame aspect {width / height:.4f}"
    camera = render_camera_from_event(camera_event, width, height)

    expected_box = expected_silhouette(camera.project(box_corners_world()), (height, width))
    expected_sphere = expected_silhouette(camera.project(sphere_points_world()), (height, width))

    overlay = image.copy()
    for mask, colour in ((expected_box, (0, 255, 0)), (expected_sphere, (255, 255, 0))):
        contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(overlay, contours, -1, colour, 1)
    overlay_path = tmp_path / "vuer_client_expected_outlines.png"
    cv2.imwrite(str(overlay_path), overlay)
    where = f"\n  grabbed image: {jpeg_path}\n  with expected outlines: {overlay_path}"

    for name, found, expected in (("red box (nested Groups)", result["red"], expected_box),
                                  ("magenta sphere", result["magenta"], expected_sphere)):
        message = describe(name, found, expected, camera) + where
        assert found.sum() > 0.5 * expected.sum(), "not rendered / too small: " + message
        distance = float(np.linalg.norm(centroid(found) - centroid(expected)))
        assert distance <= CENTROID_TOLERANCE_PX, f"centroid off by {distance:.1f} px: " + message
        overlap = iou(found, expected)
        assert overlap >= MIN_IOU, f"silhouette IoU {overlap:.2f} < {MIN_IOU}: " + message
        print(f"  {name}: centroid off by {distance:.2f} px, IoU {overlap:.3f}")


# -- every rviz marker type, as the viewer node makes it, in the Vuer client -------------------
# Each marker is built by the node's own marker code (read_marker) in magenta, put on a TF frame
# Group at MARKER_POSE, shown alone (one SET), grabbed, and compared with the pinhole model.
MARKER_POS = [0.2, -0.3, 0.35]
MARKER_QUAT = [0.0, 0.0, math.sin(math.pi / 12), math.cos(math.pi / 12)]  # 30 degrees about Z
MAGENTA_RGBA = (1.0, 0.0, 1.0, 1.0)
MAGENTA_HUES = [(140, 160)]
ARROW_SHAFT, ARROW_HEAD = 0.77, 0.23  # rviz's pose-form arrow proportions (marker_geometry.py)
# lists in the marker's YZ plane, which faces the camera (it looks along the marker's -X)
STRIP = [(0.0, -0.4, 0.0), (0.0, 0.0, 0.3), (0.0, 0.4, 0.0)]
LIST_POINTS = [(0.0, -0.3, 0.0), (0.0, 0.0, 0.2), (0.0, 0.3, 0.0)]
SQUARE = [(0.0, -0.25, -0.25), (0.0, 0.25, -0.25), (0.0, 0.25, 0.25), (0.0, -0.25, 0.25)]
QUAD = [(0.0, -0.3, -0.2), (0.0, 0.3, -0.2), (0.0, 0.3, 0.25), (0.0, -0.3, -0.2), (0.0, 0.3, 0.25), (0.0, -0.3, 0.25)]
MESH_LO, MESH_HI = (-0.2, -0.15, -0.1), (0.25, 0.15, 0.2)
TEXT_HEIGHT = 0.2


def ring(centre: Any, axis: Any, radius: float, n: int = 48) -> np.ndarray:
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    u = np.cross(axis, [0.0, 0.0, 1.0] if abs(axis[2]) < 0.9 else [1.0, 0.0, 0.0])
    u /= np.linalg.norm(u)
    v = np.cross(axis, u)
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)[:, None]
    return np.asarray(centre, float) + radius * (np.cos(t) * u + np.sin(t) * v)


def cuboid_points(lo: Any, hi: Any) -> np.ndarray:
    return np.array([[(lo, hi)[b][k] for k, b in enumerate(bits)] for bits in np.ndindex(2, 2, 2)], float)


def ellipsoid_points(centre: Any, radii: Any, n: int = 400) -> np.ndarray:
    d = np.random.default_rng(1).normal(size=(n, 3))
    return np.asarray(centre) + np.asarray(radii) * d / np.linalg.norm(d, axis=1, keepdims=True)


def arrow_parts(start: Any, end: Any, shaft_d: float, head_d: float, head_len: float) -> list[np.ndarray]:
    start, end = np.asarray(start, float), np.asarray(end, float)
    d = end - start
    neck = start + d / np.linalg.norm(d) * (np.linalg.norm(d) - head_len)
    shaft = np.r_[ring(start, d, shaft_d / 2), ring(neck, d, shaft_d / 2)]
    head = np.r_[ring(neck, d, head_d / 2), end[None]]
    return [shaft, head]


# (name, marker fields, kind, convex parts in the marker's frame or the points/anchor)
MARKER_CASES: list[tuple[str, dict[str, Any], str, Any]] = [
    ("ARROW", {"type": 0, "scale": (0.8, 0.12, 0.12)}, "solid",
     arrow_parts((0, 0, 0), (0.8, 0, 0), 0.12, 0.24, ARROW_HEAD * 0.8)),
    ("CUBE", {"type": 1, "scale": (0.4, 0.3, 0.25)}, "solid", [cuboid_points((-.2, -.15, -.125), (.2, .15, .125))]),
    ("SPHERE", {"type": 2, "scale": (0.4, 0.3, 0.3)}, "solid", [ellipsoid_points((0, 0, 0), (.2, .15, .15))]),
    ("CYLINDER", {"type": 3, "scale": (0.3, 0.3, 0.5)}, "solid",
     [np.r_[ring((0, 0, -.25), (0, 0, 1), .15), ring((0, 0, .25), (0, 0, 1), .15)]]),
    ("LINE_STRIP", {"type": 4, "scale": (0.04, 0, 0), "points": STRIP}, "line", (STRIP, False, 0.04)),
    ("LINE_LIST", {"type": 5, "scale": (0.04, 0, 0), "points": SQUARE}, "line", (SQUARE, True, 0.04)),
    ("CUBE_LIST", {"type": 6, "scale": (0.15, 0.15, 0.15), "points": LIST_POINTS}, "solid",
     [cuboid_points(np.subtract(p, .075), np.add(p, .075)) for p in LIST_POINTS]),
    ("SPHERE_LIST", {"type": 7, "scale": (0.2, 0.2, 0.2), "points": LIST_POINTS}, "solid",
     [ellipsoid_points(p, (.1, .1, .1)) for p in LIST_POINTS]),
    ("POINTS", {"type": 8, "scale": (0.05, 0.05, 0), "points": SQUARE}, "points", SQUARE),
    ("TEXT_VIEW_FACING", {"type": 9, "scale": (0, 0, TEXT_HEIGHT), "text": "VUER"}, "text", (0.0, 0.0, 0.0)),
    ("MESH_RESOURCE", {"type": 10, "mesh_resource": "file:///meshes/cuboid.stl"}, "solid",
     [cuboid_points(MESH_LO, MESH_HI)]),
    ("TRIANGLE_LIST", {"type": 11, "points": QUAD}, "solid", [np.asarray(QUAD)]),
    ("ARROW_STRIP", {"type": 12, "scale": (0.05, 0.1, 0.0), "points": STRIP}, "solid",
     [part for a, b in itertools.pairwise(STRIP)
      for part in arrow_parts(a, b, 0.05, 0.1, 0.25 * math.dist(a, b))]),
]
# the node's default form of the simple types: a MarkerList item (vuer_ros/scene/marker_list.py)
LISTED = " in a MarkerList"
MARKER_CASES += [(name + LISTED, fields, kind, expected) for name, fields, kind, expected in MARKER_CASES
                 if fields["type"] in (0, 1, 2, 3, 9)]


def marker_to_world(points: Any) -> np.ndarray:
    return np.asarray(points, float) @ quat_to_matrix(MARKER_QUAT).T + np.asarray(MARKER_POS)


def marker_scene(name: str, fields: dict[str, Any]) -> DefaultScene:
    from scene_msgs import marker   # test/: ROS messages by field name (rosbags)

    from vuer_ros.scene import read_marker
    msg = marker(ns=name.lower(), rgba=MAGENTA_RGBA, **fields)
    spec = read_marker(msg, resolve_mesh=lambda uri: "/files/" + uri.split("://", 1)[1].lstrip("/"))
    if name.endswith(LISTED):
        from vuer_ros.scene.marker_geometry import list_parts
        mtype, scale, rgba = spec.geom[:3]
        node = MarkerList(key="markers", ns=msg.ns, markerType=mtype, ids=np.array([0], "<i4").tobytes(),
                          poses=np.array([[*MARKER_POS, *MARKER_QUAT]], "<f8").tobytes(),
                          scales=np.array([scale], "<f4").tobytes(),
                          colors=np.array([[round(255 * c) for c in rgba]], np.uint8).tobytes(),
                          parts=list_parts(mtype), **({"texts": [spec.geom[3]]} if mtype == 9 else {}))
        return DefaultScene(node, bgChildren=vuer_camera_nodes(), grid=False)
    return DefaultScene(Group(*spec.children, key=spec.key, position=MARKER_POS, quaternion=MARKER_QUAT),
                        bgChildren=vuer_camera_nodes(), grid=False)


async def grab_settled(session: VuerSession, tries: int = 20) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Grab until the magenta pixels are there and the same in two grabs in a row (the Vuer
    client mounts a new scene, loads meshes and fonts over a few frames)."""
    previous = -1
    for _ in range(tries):
        _, value, image = await grab_jpeg(session)
        mask = hue_mask(image, MAGENTA_HUES)
        count = int(mask.sum())
        if count > 20 and abs(count - previous) <= max(3, 0.01 * count):
            return image, mask, value
        previous = count
        await asyncio.sleep(0.3)
    return image, mask, value


def line_mask(uv_points: np.ndarray, segments: bool, widths_px: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    pairs = range(0, len(uv_points) - 1, 2) if segments else range(len(uv_points) - 1)
    for i in pairs:
        a, b = uv_points[i], uv_points[i + 1]
        cv2.line(mask, tuple(np.round(a * 16).astype(int)), tuple(np.round(b * 16).astype(int)), 1,
                 thickness=max(1, round((widths_px[i] + widths_px[i + 1]) / 2)), lineType=cv2.LINE_8, shift=4)
    return mask.astype(bool)


def check_marker_image(name: str, kind: str, expected: Any, image: np.ndarray, mask: np.ndarray,
                       camera: RenderCamera) -> str | None:
    """None when the marker is where the pinhole model puts it, else what is wrong."""
    shape = image.shape[:2]
    found = centroid(mask) if mask.any() else None
    if kind == "solid":
        want = np.zeros(shape, bool)
        for part in expected:
            want |= expected_silhouette(camera.project(marker_to_world(part)), shape)
        where = np.round(centroid(want), 1).tolist()
        if found is None or mask.sum() < 0.5 * want.sum():
            return f"{int(mask.sum())} px found, {int(want.sum())} expected at {where}"
        off, overlap = float(np.linalg.norm(found - centroid(want))), iou(mask, want)
        if off > 3.0 or overlap < 0.75:
            return f"centroid {off:.1f} px off, IoU {overlap:.2f} (expected at {where})"
    elif kind == "line":
        points, segments, width = expected
        world = marker_to_world(points)
        uv = camera.project(world)
        depth = camera.world_to_optical(world)[:, 2]
        widths = width * camera.focal_length / depth
        want = line_mask(uv, segments, widths, shape)
        if found is None:
            return f"no line pixels; expected {int(want.sum())} at {np.round(centroid(want), 1).tolist()}"
        off, overlap = float(np.linalg.norm(found - centroid(want))), iou(mask, want)
        if off > 3.0 or overlap < 0.5:
            return (f"line centroid {off:.1f} px off, IoU {overlap:.2f} ({int(mask.sum())} px, "
                    f"{int(want.sum())} expected)")
    elif kind == "points":
        uv = camera.project(marker_to_world(expected))
        _, _, stats, centres = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
        blobs = centres[1:][stats[1:, cv2.CC_STAT_AREA] >= 4]
        if len(blobs) != len(uv):
            return f"{len(blobs)} point blobs, {len(uv)} expected at {np.round(uv, 1).tolist()}"
        for p in uv:
            nearest = float(np.min(np.linalg.norm(blobs - p, axis=1)))
            if nearest > 2.0:
                return f"no point within 2 px of {np.round(p, 1).tolist()} (nearest {nearest:.1f} px)"
    elif kind == "text":
        anchor_world = marker_to_world([expected])[0]
        anchor = camera.project(anchor_world[None])[0]
        depth = float(camera.world_to_optical(anchor_world[None])[0, 2])
        cap_px = TEXT_HEIGHT * camera.focal_length / depth
        if found is None:
            return f"no text pixels; expected capitals {cap_px:.0f} px high at {np.round(anchor, 1).tolist()}"
        ys = np.nonzero(mask)[0]
        height = ys.max() - ys.min() + 1
        off = float(np.linalg.norm(found - anchor))
        if off > 0.3 * cap_px or not 0.8 * cap_px <= height <= 1.2 * cap_px:
            return (f"text centred {off:.1f} px from its anchor {np.round(anchor, 1).tolist()}, "
                    f"{height} px high (capitals {cap_px:.1f} px)")
    return None


async def markers_in_vuer_client(client_dir: Path, meshes: Path) -> dict[str, Any]:
    async with VuerServer(port=0, client_dir=client_dir, mounts={"meshes": meshes}) as server:
        moves = CameraMoves(server)
        server.set @ marker_scene(*MARKER_CASES[0][:2])
        async with HeadlessBrowser(server, 640, 480, restart=False, start_timeout=20.0) as browser:
            session = browser.session
            moves.session = session
            await moves.settled()
            assert server.vuer_clients.is_vuer(session), f"INIT {session.info} was not taken for the Vuer client"
            results = {}
            for name, fields, kind, expected in MARKER_CASES:
                server.set @ marker_scene(name, fields)
                image, mask, _ = await grab_settled(session)
                camera = render_camera_from_event(moves.events[-1][1], image.shape[1], image.shape[0])
                results[name] = (kind, expected, image, mask, camera)
            return results


def test_every_marker_type_renders_in_the_vuer_client_where_the_pinhole_model_says(tmp_path: Path) -> None:
    client_dir = vuer_client_dir()
    if client_dir is None:
        pytest.skip("the vuer package (with its bundled client_build) is not installed")
    from meshes import cuboid, stl_bytes
    meshes = tmp_path / "meshes"
    meshes.mkdir()
    (meshes / "cuboid.stl").write_bytes(stl_bytes(*cuboid(MESH_LO, MESH_HI)))
    results = asyncio.run(asyncio.wait_for(markers_in_vuer_client(client_dir, meshes), 180.0))
    problems = []
    for name, (kind, expected, image, mask, camera) in results.items():
        cv2.imwrite(str(tmp_path / f"{name}.png"), image)
        problem = check_marker_image(name, kind, expected, image, mask, camera)
        print(f"  {name}: {problem or 'ok'}")
        if problem:
            problems.append(f"{name}: {problem} (grab: {tmp_path / (name + '.png')})")
    assert not problems, "markers not where the pinhole model puts them in the Vuer client:\n  " + "\n  ".join(problems)


# -- the viewer node's status event (vuer_ros/protocol/status.py) ------------------------------
def a_status() -> dict[str, Any]:
    """A status as the node sends it (fields from the tables, values of their types)."""
    display = {"id": "Marker:/m", "type": "Marker", "name": "/m", "topic": "/m", "messages": 3,
               "keys": ["marker:a"], "children": []}
    return {"time": 12.5, "simTime": False, "fixedFrame": "map", "sceneRate": 30.0, "imageRate": 10.0,
            "imageRateTarget": 10.0, "problems": 1, "recentProblems": ["marker ns=a id=1: bad"],
            "displays": [display], "frames": [{"name": "map", "parent": None, "key": "tf:map"}],
            "camera": {"frame": "map", "key": "tf:map", "position": [1.0, 2.0, 3.0],
                       "quaternion": [0.0, 0.0, 0.0, 1.0], "fov": 45.0, "near": 0.05, "far": 100.0,
                       "width": 640, "height": 480},
            "rvizView": {"position": [5.0, 5.0, 7.07], "target": [0.0, 0.0, 0.0], "up": [0.0, 0.0, 1.0],
                         "fov": 45.0, "near": 0.01, "far": 100.0}}


async def grab_around_statuses(client_dir: Path) -> tuple[np.ndarray, np.ndarray, bool]:
    from vuer_ros.protocol.status import status_event
    async with VuerServer(port=0, client_dir=client_dir) as server:
        moves = CameraMoves(server)
        server.set @ scene()
        async with HeadlessBrowser(server, 640, 480, restart=False, start_timeout=20.0) as browser:
            session = browser.session
            moves.session = session
            await moves.settled()
            for _ in range(6):
                _, _, before = await grab_jpeg(session)
                red_before = largest_blob(hue_mask(before, [(0, 8), (172, 179)]))
                if red_before.sum() > 200:
                    break
                await asyncio.sleep(0.5)
            for _ in range(3):
                server.broadcast(status_event(a_status()))
            _, _, after = await grab_jpeg(session)
            return red_before, largest_blob(hue_mask(after, [(0, 8), (172, 179)])), not session.closed


def test_vuer_client_ignores_the_status_event() -> None:
    """The node's status event reaches every browser; the Vuer client shrugs it off: it
    stays connected, answers grabs, and draws the scene as before."""
    client_dir = vuer_client_dir()
    if client_dir is None:
        pytest.skip("the vuer package (with its bundled client_build) is not installed")
    before, after, connected = asyncio.run(asyncio.wait_for(grab_around_statuses(client_dir), TEST_TIMEOUT))
    assert connected and before.sum() > 200
    assert iou(before, after) > 0.98, f"the red box changed after status events: IoU {iou(before, after):.3f}"
