"""Labels cover the pixels their glyph outlines cover where the pinhole model puts
them, both when drawn from the outlines (large on screen) and when drawn as quads
from the glyph atlas (small on screen: web/src/glyph-atlas.js). The prediction is
made here from the font file itself: FontLoader's layout, the outlines flattened
finely, and a pixel counted when its centre is inside (non-zero winding)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest

from vuer_ros.render.browser import HeadlessBrowser
from vuer_ros.render.camera import RenderCamera, quat_to_matrix
from vuer_ros.schemas import DefaultScene, Text
from vuer_ros.server import VuerServer

from pixels import colour_mask

W, H = 640, 480
CAMERA = RenderCamera.look_at([0.0, -2.0, 0.0], [0.0, 0.0, 0.0], width=W, height=H, fov_y=55.0,
                              near=0.05, far=100.0)
FONT = Path(__file__).resolve().parents[2] / "web/node_modules/three/examples/fonts/helvetiker_regular.typeface.json"
ATLAS_CAP_PX = 48   # glyph-atlas.js CAP_PX: capitals up to this size on screen are drawn from the atlas

# (key, text, cap height m, place, anchorX, anchorY, colour); at 2 m, 0.1 m capitals are ~23 px
LABELS = [
    ("small", "Vuer_ROS 42g?", 0.1, (-0.35, 0.0, 0.45), "center", "middle", (255, 0, 0)),
    ("small-lines", "ab\nc%", 0.06, (0.3, 0.0, -0.4), "left", "top", (0, 0, 255)),
    ("large", "Q&8y", 0.3, (-0.05, 0.0, -0.05), "right", "bottom", (0, 255, 0)),
]


def flatten(outline: str, steps: int = 24) -> list[np.ndarray]:
    """typeface.js commands (font units) -> closed polygons, curves finely sampled."""
    o, i, polys, cur = outline.split(), 0, [], []
    t = np.linspace(0, 1, steps + 1)[1:, None]
    while i < len(o):
        a = o[i]
        i += 1
        if a == "m":
            if cur:
                polys.append(np.array(cur))
            cur = [(float(o[i]), float(o[i + 1]))]
            i += 2
        elif a == "l":
            cur.append((float(o[i]), float(o[i + 1])))
            i += 2
        elif a == "q":   # end point, then control point, as FontLoader reads them
            end, c = np.array(o[i:i + 2], float), np.array(o[i + 2:i + 4], float)
            p0 = np.array(cur[-1])
            cur.extend(map(tuple, (1 - t) ** 2 * p0 + 2 * (1 - t) * t * c + t ** 2 * end))
            i += 4
        elif a == "b":
            end, c1, c2 = (np.array(o[i + k:i + k + 2], float) for k in (0, 2, 4))
            p0 = np.array(cur[-1])
            cur.extend(map(tuple, (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * c1 + 3 * (1 - t) * t ** 2 * c2
                           + t ** 3 * end))
            i += 6
    if cur:
        polys.append(np.array(cur))
    return polys


def text_polygons(font: dict, text: str, size: float, anchor_x: str, anchor_y: str) -> list[np.ndarray]:
    """The label's outlines in metres in its own plane (x right, y up), placed as
    FontLoader and the anchors place them: capitals `size` high."""
    res = font["resolution"]
    glyphs = font["glyphs"]
    line = (font["boundingBox"]["yMax"] - font["boundingBox"]["yMin"] + font["underlineThickness"]) / res
    cap = max(p[:, 1].max() for p in flatten(glyphs["H"]["o"])) / res
    polys, x, y = [], 0.0, 0.0
    for ch in text:
        if ch == "\n":
            x, y = 0.0, y - line
            continue
        g = glyphs.get(ch, glyphs["?"])
        polys += [p / res + (x, y) for p in flatten(g.get("o", ""))]
        x += g["ha"] / res
    xs = np.concatenate([p[:, 0] for p in polys])
    dx = {"left": 0.0, "right": -xs.max()}.get(anchor_x, -(xs.min() + xs.max()) / 2)
    top, bottom = cap, -(len(text.split("\n")) - 1) * line
    dy = {"top": -top, "bottom": -bottom}.get(anchor_y, -(top + bottom) / 2)
    return [(p + (dx, dy)) * (size / cap) for p in polys]


def rasterise(polys_px: list[np.ndarray]) -> np.ndarray:
    """Pixels whose centre (integer coordinates) the polygons cover, non-zero winding."""
    winding = np.zeros((H, W), int)
    u, v = np.meshgrid(np.arange(W), np.arange(H))
    for p in polys_px:
        a, b = p, np.roll(p, -1, axis=0)
        for (x0, y0), (x1, y1) in zip(a, b):
            if y0 == y1:
                continue
            lo, hi = sorted((y0, y1))
            rows = slice(max(int(np.ceil(lo)), 0), min(int(np.ceil(hi)), H))
            vv = v[rows]
            cross_x = x0 + (vv - y0) * (x1 - x0) / (y1 - y0)
            winding[rows] += np.where(u[rows] < cross_x, 1 if y1 > y0 else -1, 0)
    return winding != 0


def predicted_mask(font, text, size, place, anchor_x, anchor_y) -> np.ndarray:
    """A billboard lies in the plane through its place parallel to the image plane."""
    R = quat_to_matrix(CAMERA.orientation)          # optical: x right, y down, z forward
    right, up = R[:, 0], -R[:, 1]
    polys_px = [CAMERA.project(np.asarray(place) + p[:, :1] * right + p[:, 1:] * up)
                for p in text_polygons(font, text, size, anchor_x, anchor_y)]
    return rasterise(polys_px)


def edge_pixels(mask: np.ndarray) -> int:
    """Pixels of the mask with a 4-neighbour outside it: the outline's length."""
    inner = mask[1:-1, 1:-1] & mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
    return int(mask.sum() - inner.sum())


@pytest.fixture(scope="module")
def rendered():
    async def main():
        async with VuerServer(port=0) as server:
            server.set @ DefaultScene(*[
                Text(key=key, text=text, fontSize=size, billboard=True, position=list(place), anchorX=ax,
                     anchorY=ay, material={"color": "#%02x%02x%02x" % colour})
                for key, text, size, place, ax, ay, colour in LABELS], grid=False)
            async with HeadlessBrowser(server, W, H) as browser:
                return await browser.session.grab(format="rgb", width=W, height=H, camera=CAMERA)
    return asyncio.run(asyncio.wait_for(main(), 60)).rgb


@pytest.mark.parametrize("key", [label[0] for label in LABELS])
def test_a_label_covers_the_pixels_of_its_glyph_outlines(rendered, key):
    font = json.loads(FONT.read_text())
    _, text, size, place, ax, ay, colour = next(label for label in LABELS if label[0] == key)
    cap_px = size * CAMERA.focal_length / 2.0
    assert (cap_px <= ATLAS_CAP_PX) == key.startswith("small"), "the labels test both forms"
    want = predicted_mask(font, text, size, place, ax, ay)
    got = colour_mask(rendered, colour)
    wrong = int((want ^ got).sum())
    # pixel centres within a fraction of a pixel of an outline may fall either way
    # (the outline form draws curves as 4 chords each: up to ~1 px inside at 70 px)
    assert wrong <= 0.1 * edge_pixels(want), (wrong, edge_pixels(want), int(want.sum()))
    # placed to a fraction of a pixel: moved by one pixel, the prediction fits far worse
    for shift in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        assert 3 * wrong < int((np.roll(want, shift, axis=(0, 1)) ^ got).sum()), shift
