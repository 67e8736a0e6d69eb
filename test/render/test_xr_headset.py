"""The client in a VR headset: an immersive-vr session of the Immersive Web Emulation
Runtime (iwer, a JavaScript WebXR runtime emulating a Meta Quest 3) in headless
Chromium. The page gets ``?xr=emulate``: it loads iwer and the tests' XR_TEST RPC
(web/test/xr-emulation.js, built here into a temporary folder that the server
mounts; never part of the production bundle) before it offers its VR/AR buttons.

What is checked, with the canvas read back inside each XR frame's own task:
- both eyes: a known marker lands where that eye's projection and view matrices (as
  the runtime reports them) put it, after the world placement web/src/xr.js documents
  (1:1, the fixed frame's z = 0 on the floor, standing where the desktop camera stands,
  facing what it looks at), and the eyes sit at the head pose set, apart by the IPD;
- a moved TF frame moves the marker in the first XR frame drawn after the update;
- a grab during the session renders from its own camera, as on the desktop;
- scene updates streamed during the session are applied between frames, every frame drawn;
- grip drags the world with the hand, the thumbstick turns it about the head;
- table-top mode scales the scene's extent to 0.6 m and stands it in front of the head;
- an immersive-ar session draws the same world over a transparent background.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pixels import colour_mask, convex_hull, polygon_area_centroid, predicted_silhouette

from vuer_ros.protocol import ServerRPC
from vuer_ros.protocol.errors import RpcError
from vuer_ros.render.browser import HeadlessBrowser
from vuer_ros.render.camera import RenderCamera
from vuer_ros.schemas import Box, DefaultScene, Group
from vuer_ros.server import VuerServer, VuerSession

WEB = Path(__file__).resolve().parents[2] / "web"
W, H = 640, 480
HEAD = [0.0, 1.6, 0.0]
HEAD_QUAT = [0.0, 0.0, 0.0, 1.0]
IPD = 0.064  # web/test/xr-emulation.js
# the client's default desktop camera (docs/protocol.md): VR starts standing at its (x, y)
DESKTOP_EYE, DESKTOP_TARGET = np.array([-3.0, -3.0, 2.5]), np.array([0.0, 0.0, 0.0])
BASE = [-1.6, -1.5, 1.45]     # the TF frame carrying the marker, ~2 m ahead, a little below the eyes
TOOL = [-1.2, -1.9, 1.0]      # a second frame: the scene's extent for table-top
MARKER_SIZE = 0.25
RED = (255, 0, 0)
TIMEOUT = 120.0


@pytest.fixture(scope="module")
def emulation_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    node = shutil.which("node")
    if node is None or not (WEB / "node_modules" / "iwer").is_dir():
        pytest.fail("node and web/node_modules/iwer are needed (bash scripts/setup.sh installs them)")
    out = tmp_path_factory.mktemp("xr-emulation")
    subprocess.run([node, str(WEB / "build.mjs"), "--xr-emulation", str(out)], check=True, cwd=WEB,
                   capture_output=True, timeout=120)
    return out


# -- geometry ---------------------------------------------------------------------------------
def translation(v: Any) -> np.ndarray:
    m = np.eye(4)
    m[:3, 3] = v
    return m


def rot_x(a: float) -> np.ndarray:
    m = np.eye(4)
    m[1:3, 1:3] = [[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]
    return m


def rot_z(a: float) -> np.ndarray:
    m = np.eye(4)
    m[:2, :2] = [[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]
    return m


def standing_rig() -> np.ndarray:
    """XR local-floor -> scene for the desktop camera, as web/src/xr.js documents it: XR +Y is
    scene +Z, the floor is z = 0, the user stands at the camera's (x, y) facing its target."""
    d = DESKTOP_TARGET - DESKTOP_EYE
    yaw = math.atan2(d[1], d[0]) - math.pi / 2  # XR forward (-Z) is scene +Y before the turn
    return translation([DESKTOP_EYE[0], DESKTOP_EYE[1], 0.0]) @ rot_z(yaw) @ rot_x(math.pi / 2)


def column_major(values: list[float]) -> np.ndarray:
    return np.asarray(values, float).reshape(4, 4).T


def project(frame: dict[str, Any], view: dict[str, Any], points_scene: np.ndarray,
            rig: np.ndarray) -> np.ndarray:
    """Scene points -> image pixels (x right, y down; pixel centres at integers) of one eye."""
    to_xr = np.linalg.inv(rig)
    pts = np.c_[points_scene, np.ones(len(points_scene))] @ to_xr.T
    clip = pts @ column_major(view["view"]).T @ column_major(view["projection"]).T
    ndc = clip[:, :3] / clip[:, 3:4]
    vx, vy, vw, vh = view["viewport"]
    x = vx + (ndc[:, 0] + 1) / 2 * vw - 0.5
    y_gl = vy + (ndc[:, 1] + 1) / 2 * vh - 0.5
    return np.c_[x, frame["height"] - 1 - y_gl]


def marker_corners(base: list[float]) -> np.ndarray:
    h = MARKER_SIZE / 2
    return np.array([[base[0] + sx * h, base[1] + sy * h, base[2] + sz * h]
                     for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)])


def image_of(frame: dict[str, Any]) -> np.ndarray:
    rgba = np.frombuffer(frame["pixels"], np.uint8).reshape(frame["height"], frame["width"], 4)
    return rgba[::-1, :, :3]  # rows bottom-up -> top-down


def check_marker(frame: dict[str, Any], base: list[float], rig: np.ndarray, what: str) -> list[np.ndarray]:
    """In each eye's viewport, the red marker's centroid is where the eye's matrices put it."""
    image = image_of(frame)
    red = colour_mask(image, RED)
    centroids = []
    assert len(frame["views"]) == 2, f"{what}: {len(frame['views'])} views, expected two eyes"
    for view in frame["views"]:
        vx, vy, vw, vh = view["viewport"]
        region = np.zeros_like(red)
        top = frame["height"] - (vy + vh)
        region[top:top + vh, vx:vx + vw] = True
        found = red & region
        uv = project(frame, view, marker_corners(base), rig)
        area, expected = polygon_area_centroid(convex_hull(uv))
        assert found.sum() > 0.5 * area, (f"{what}, {view['eye']} eye: {int(found.sum())} red px, expected "
                                          f"about {area:.0f} around {np.round(expected, 1).tolist()}")
        ys, xs = np.nonzero(found)
        centroid = np.array([xs.mean(), ys.mean()])
        error = float(np.linalg.norm(centroid - expected))
        assert error <= 1.5, (f"{what}, {view['eye']} eye: marker centred at {np.round(centroid, 2).tolist()}, "
                              f"its matrices put it at {np.round(expected, 2).tolist()} ({error:.2f} px off)")
        centroids.append(centroid)
    return centroids


# -- the session --------------------------------------------------------------------------------
def scene() -> DefaultScene:
    return DefaultScene(
        Group(Box(key="marker", args=[MARKER_SIZE] * 3, material={"color": "#ff0000"}, materialType="basic"),
              key="base_link", position=BASE),
        Group(key="tool", position=TOOL),
        grid=False)


async def emulation_loaded(session: VuerSession, timeout: float = 20.0) -> None:
    """The page loads the emulation after it connected: wait until it answers XR_TEST."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await xr_test(session, op="head", position=HEAD, quaternion=HEAD_QUAT)
            return
        except RpcError as e:
            if "unsupported request" not in str(e) or asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)


async def xr_test(session: VuerSession, **data: Any) -> dict[str, Any]:
    event = await session.rpc(ServerRPC("XR_TEST", data), ttl=30.0)
    assert isinstance(event.value, dict), event.value
    return event.value


async def in_headset(emulation_dir: Path) -> None:
    async with VuerServer(port=0, mounts={"xr-emulation": emulation_dir}) as server:
        server.set @ scene()
        query = {"renderer": "browser", "xr": "emulate"}
        async with HeadlessBrowser(server, W, H, query=query, restart=False, start_timeout=40.0) as browser:
            session = browser.session
            await emulation_loaded(session)
            await xr_test(session, op="enter", mode="immersive-vr")
            frame = await xr_test(session, op="frame", events=0, pixels=True)
            rig = column_major(frame["rig"])
            assert np.allclose(rig, standing_rig(), atol=1e-6), \
                f"world placement\n{np.round(rig, 4)}\nis not the documented one\n{np.round(standing_rig(), 4)}"
            for view, dx in zip(frame["views"], (-IPD / 2, IPD / 2)):
                eye_in_xr = np.linalg.inv(column_major(view["view"]))[:3, 3]
                assert np.allclose(eye_in_xr, np.add(HEAD, [dx, 0, 0]), atol=1e-5), \
                    f"{view['eye']} eye at {eye_in_xr}, expected the head {HEAD} +- half the IPD"
            before = check_marker(frame, BASE, rig, "entering VR")

            # a moved TF frame: the first frame drawn after the update shows it
            moved = [BASE[0] + 0.3, BASE[1], BASE[2] + 0.1]
            waiting = asyncio.ensure_future(xr_test(session, op="frame", events=1, pixels=True))
            await asyncio.sleep(0)  # the RPC is queued first, the update right after it
            server.update @ Group(key="base_link", position=moved)
            frame = await waiting
            assert frame["waited"] >= 1
            after = check_marker(frame, moved, rig, "the first XR frame after the TF update")
            assert all(np.linalg.norm(a - b) > 10 for a, b in zip(after, before))

            # a grab during the session renders from its own camera, as on the desktop
            camera = RenderCamera.look_at([moved[0] - 2.0, moved[1] - 0.5, moved[2] + 0.8], moved, width=320,
                                          height=240, fov_y=50.0, near=0.05, far=100.0)
            grabbed = await session.grab(format="rgb", width=320, height=240, camera=camera)
            area, expected, _ = predicted_silhouette(camera, marker_corners(moved))
            red = colour_mask(grabbed.rgb, RED)
            ys, xs = np.nonzero(red)
            assert red.sum() > 0.8 * area and np.hypot(xs.mean() - expected[0], ys.mean() - expected[1]) <= 1.0, \
                f"a grab during the session: {int(red.sum())} red px around {xs.mean() if len(xs) else None}, " \
                f"{ys.mean() if len(ys) else None}; expected {area:.0f} around {expected}"

            # a stream of TF updates during the session: applied between frames, every frame drawn
            counts = []
            for k in range(20):
                server.update @ Group(key="base_link", position=[moved[0], moved[1] + 0.002 * k, moved[2]])
                if k % 5 == 4:
                    f = await xr_test(session, op="frame", events=0)
                    counts.append((f["applied"], f["frames"], f["deviceFrames"]))
            assert all(b[0] > a[0] and b[1] > a[1] for a, b in itertools.pairwise(counts)), counts
            assert all(b[1] - a[1] == b[2] - a[2] for a, b in itertools.pairwise(counts)), \
                f"XR frames not drawn: {counts}"

            # grip drags the world: the scene point under the hand stays under it
            settle = [moved[0], moved[1] + 0.038, moved[2]]
            p0, p1 = np.array([0.2, 1.2, -0.3]), np.array([0.35, 1.1, -0.5])
            await xr_test(session, op="controller", hand="right", position=p0.tolist(), squeeze=1.0)
            await xr_test(session, op="frame", events=0, afterFrames=1)
            await xr_test(session, op="controller", hand="right", position=p1.tolist())
            frame = await xr_test(session, op="frame", events=0, afterFrames=1, pixels=True)
            dragged = column_major(frame["rig"])
            assert np.allclose(dragged, rig @ translation(p0 - p1), atol=1e-5), \
                f"after a grip drag by {p1 - p0} the rig is\n{np.round(dragged, 4)}"
            check_marker(frame, settle, dragged, "after a grip drag")
            await xr_test(session, op="controller", hand="right", squeeze=0.0)

            # the thumbstick turns the world about the vertical through the head
            await xr_test(session, op="controller", hand="right", thumbstick=[1.0, 0.0])
            await xr_test(session, op="frame", events=0, afterFrames=3)
            await xr_test(session, op="controller", hand="right", thumbstick=[0.0, 0.0])
            frame = await xr_test(session, op="frame", events=0, afterFrames=1, pixels=True)
            turned = column_major(frame["rig"])
            relative = np.linalg.inv(dragged) @ turned  # in XR coordinates
            angle = math.atan2(relative[0, 2], relative[0, 0])
            assert angle < -0.01, f"pushing the stick right did not turn the view right (angle {angle})"
            head_floor = np.array([HEAD[0], 0.0, HEAD[2], 1.0])
            assert np.allclose(relative @ head_floor, head_floor, atol=1e-6), "the turn is not about the head"
            assert np.allclose(relative[1], [0, 1, 0, 0], atol=1e-9), "the turn is not about the vertical"
            check_marker(frame, settle, turned, "after a thumbstick turn")
            await xr_test(session, op="exit")

            # table-top: the scene's extent is TABLE_SIZE across, in front of and below the eyes
            await xr_test(session, op="enter", mode="immersive-vr", tableTop=True)
            frame = await xr_test(session, op="frame", events=0, afterFrames=1, pixels=True)
            rig = column_major(frame["rig"])
            origins = np.array([settle, TOOL])
            extent = (origins.max(0) - origins.min(0)).max()
            scale = np.linalg.norm(rig[:3, 0])
            assert scale == pytest.approx(extent / 0.6, rel=1e-6), f"table-top scale {scale}, extent {extent}"
            bottom = np.array([*(origins.max(0) + origins.min(0))[:2] / 2, origins[:, 2].min(), 1.0])
            spot = np.linalg.inv(rig) @ bottom
            assert np.allclose(spot[:3], [HEAD[0], HEAD[1] - 0.5, HEAD[2] - 0.6], atol=1e-5), \
                f"the scene's base stands at {spot[:3]} in XR, expected 0.6 m ahead and 0.5 m below the eyes"
            check_marker_scaled(frame, settle, rig)
            await xr_test(session, op="exit")

            # AR: the same world, and the room shows through where nothing is drawn
            await xr_test(session, op="enter", mode="immersive-ar")
            frame = await xr_test(session, op="frame", events=0, afterFrames=1, pixels=True)
            rgba = np.frombuffer(frame["pixels"], np.uint8).reshape(frame["height"], frame["width"], 4)[::-1]
            red = colour_mask(rgba[..., :3], RED)
            assert (rgba[..., 3][~red] == 0).mean() > 0.9, "AR: the background is not transparent"
            assert (rgba[..., 3][red] == 255).all()
            check_marker(frame, settle, column_major(frame["rig"]), "in AR")
            await xr_test(session, op="exit")


def check_marker_scaled(frame: dict[str, Any], base: list[float], rig: np.ndarray) -> None:
    """Table-top: the (small) marker is where the matrices put it, within a pixel or so."""
    image = image_of(frame)
    red = colour_mask(image, RED)
    for view in frame["views"]:
        vx, vy, vw, vh = view["viewport"]
        top = frame["height"] - (vy + vh)
        found = np.zeros_like(red)
        found[top:top + vh, vx:vx + vw] = red[top:top + vh, vx:vx + vw]
        uv = project(frame, view, marker_corners(base), rig)
        _, expected = polygon_area_centroid(convex_hull(uv))
        assert found.sum() > 0, f"table-top, {view['eye']} eye: no marker pixels (expected at {expected})"
        ys, xs = np.nonzero(found)
        error = float(np.linalg.norm([xs.mean() - expected[0], ys.mean() - expected[1]]))
        assert error <= 2.0, f"table-top, {view['eye']} eye: marker {error:.2f} px from where its matrices put it"


def test_vr_session_in_an_emulated_headset(emulation_dir: Path) -> None:
    asyncio.run(asyncio.wait_for(in_headset(emulation_dir), TIMEOUT))
