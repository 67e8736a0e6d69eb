"""MarkerLists draw the same pixels as the markers' own nodes: the scene model with
``marker_lists`` and without, fed the same messages, rendered by the real client in
headless Chromium from the same camera, through a first array (solids of every listed
type, labels small on screen and one large), a move of every marker (one poses UPDATE
per list), a TF move of the frame a list hangs in, a DELETE, an expired lifetime,
markers turned invisible and one turned translucent."""

from __future__ import annotations

import asyncio
import itertools
import math

import numpy as np
import pytest
from scene_msgs import MarkerArray, S, marker, tf, tf_msg

from vuer_ros.render.browser import HeadlessBrowser
from vuer_ros.render.camera import RenderCamera
from vuer_ros.scene import SceneModel
from vuer_ros.server import VuerServer

W, H = 640, 480
CAMERA = RenderCamera.look_at([-3.0, -3.5, 3.0], [0.0, 0.0, 0.3], width=W, height=H, fov_y=50.0)
TYPES = (1, 2, 3, 0)   # cube, sphere, cylinder, arrow


def q_axis(axis, angle):
    n = math.sqrt(sum(a * a for a in axis))
    s = math.sin(angle / 2) / n
    return (axis[0] * s, axis[1] * s, axis[2] * s, math.cos(angle / 2))


def array(shift: float) -> MarkerArray:
    """A grid of all four types: turned, stretched, coloured; a few big spheres (meshes)
    and many small ones (impostors); the last row rides frame 'arm' (frame_locked)."""
    ms = []
    for i in range(48):
        t = TYPES[i % 4]
        x, y = (i % 8) * 0.5 - 1.75 + shift, (i // 8) * 0.6 - 1.5
        big = t == 2 and i % 3 == 0
        ms.append(marker(
            type=t, ns="grid", id=i, frame="arm" if i >= 40 else "map", frame_locked=i >= 40,
            xyz=(x, y, 0.2 + 0.05 * (i % 5)), q=q_axis((1.0, 0.5 * (i % 3), 0.3), 0.4 * i),
            scale=(0.5, 0.12, 0.12) if t == 0 else ((0.6, 0.6, 0.6) if big else (0.25, 0.15 + 0.02 * (i % 4), 0.3)),
            rgba=((i * 37 % 255) / 255, (i * 91 % 255) / 255, (i * 53 % 255) / 255, 1.0)))
    for k in range(6):   # labels: small ones (glyph quads) and one large (its outline)
        ms.append(marker(type=9, ns="labels", id=k, text=f"L{k}g" if k < 5 else "BIG",
                         xyz=(-1.5 + 0.6 * k + shift, 1.9, 0.8), scale=(1.0, 1.0, 0.6 if k == 5 else 0.15),
                         rgba=(1.0, 1.0 - 0.15 * k, 0.2 * k, 1.0)))
    return MarkerArray(markers=ms)


def models():
    out = []
    for lists in (True, False):
        m = SceneModel("map", marker_lists=lists)
        m.on_tf(tf_msg(tf("map", "arm", (0.0, 0.3, 0.1), ns=S)))
        out.append(m)
    return out


STEPS = ["first", "moved", "tf", "edited"]


def step(model: SceneModel, name: str) -> None:
    if name == "first":
        model.on_marker_array(array(0.0), S)
    elif name == "moved":
        model.on_marker_array(array(0.12), S)
    elif name == "tf":
        model.on_tf(tf_msg(tf("map", "arm", (0.2, 0.5, 0.3), q_axis((0, 0, 1), 0.3), ns=2 * S)))
    elif name == "edited":
        model.on_marker(marker(type=1, ns="grid", id=4, action=2), 2 * S)                  # DELETE
        model.on_marker(marker(type=2, ns="grid", id=5, rgba=(0.0, 1.0, 0.0, 0.0)), 2 * S)  # invisible
        model.on_marker(marker(type=3, ns="grid", id=6, xyz=(0.5, 0.5, 0.5),
                               rgba=(0.0, 0.0, 1.0, 0.5)), 2 * S)                          # translucent
        model.on_marker(marker(type=1, ns="grid", id=7, lifetime_ns=S // 2), 2 * S)
        model.on_marker(marker(type=9, ns="labels", id=2, text="x", rgba=(1.0, 1.0, 1.0, 0.0)), 2 * S)
    model.advance(3 * S)   # id 7's lifetime is over


@pytest.fixture(scope="module")
def frames():
    """(step, lists) -> the grab after that step; each model drives the browser through
    all steps with its own events (a model's first drain is a SET)."""
    async def main():
        out: dict[tuple[str, bool], np.ndarray] = {}
        async with VuerServer(port=0) as server, HeadlessBrowser(server, W, H) as browser:
            sess = browser.session
            for model, lists in zip(models(), (True, False)):
                for name in STEPS:
                    step(model, name)
                    for ev in model.drain_events():
                        server.broadcast(ev)
                    frame = await sess.grab(format="rgb", width=W, height=H, camera=CAMERA)
                    out[(name, lists)] = frame.rgb
            return out
    return asyncio.run(asyncio.wait_for(main(), 120))


@pytest.mark.parametrize("name", STEPS)
def test_lists_draw_the_pixels_of_the_markers_own_nodes(frames, name):
    listed, plain = frames[(name, True)], frames[(name, False)]
    drawn = (np.abs(plain.astype(int) - np.array([48, 48, 48])).sum(axis=2) > 30).sum()
    assert drawn > 20000, "the markers cover a good part of the image"
    differ = (np.abs(listed.astype(int) - plain.astype(int)).max(axis=2) > 2).sum()
    assert differ <= 20, f"{differ} pixels differ"


def test_the_steps_change_the_picture(frames):
    for a, b in itertools.pairwise(STEPS):
        assert (np.abs(frames[(a, True)].astype(int) - frames[(b, True)].astype(int)).max(axis=2) > 2).sum() > 500
