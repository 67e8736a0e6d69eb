"""render-bag --jobs N: a bag rendered in N segments by N worker processes (real
Chromium each) and joined gives byte for byte the output bag, the PNGs and the video
of a one-job run; frames and video compared after decoding too.

The bag crosses the segment boundaries with what depends on history: a marker lifetime
running across a boundary, a DELETEALL, a frame_locked=false marker placed at its
stamp, text appearing late (the client's glyph atlas), a MarkerArray changing every
tick, and a camera frame whose TF starts late (ticks without a frame across segments).
"""

from __future__ import annotations

import asyncio
import csv
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from bag_helpers import ctrl_c_when, read_bag

from vuer_ros.bag import Renderer, RenderOptions, render_bag_async
from vuer_ros.bag.parallel import render_bag_jobs
from vuer_ros.bag.segments import split
from vuer_ros.bag.spool import SpooledFrame, SpoolReader, SpoolWriter
from vuer_ros.bag.synthetic import (
    T0_NS,
    MessageFactory,
    demo_messages,
    typestore,
    write_bag,
)

W, H, RATE = 160, 120, 10.0


def at(s: float) -> int:
    return T0_NS + round(s * 1e9)


def segment_bag(path: Path, storage: str = "mcap") -> Path:
    """3 s of the demo scene (arm, a churning MarkerArray with text) plus history that
    crosses segment boundaries (ticks 0-29; 3 segments: 0-9, 10-19, 20-29)."""
    store = typestore()
    m = MessageFactory(store)
    msgs = list(demo_messages(store, duration=3.0, tf_rate=50.0, array_markers=12, churn=True,
                              arm=True))
    # a sphere living 0.45 s from 0.9 s: seen by ticks 9-13, across the 10-tick boundary
    msgs.append((at(0.9), "/visualization_marker", m.marker(
        at(0.9), "short", 1, 2, "world", (-0.8, 0, 0.6), (0.3,) * 3, (0, 1, 0, 1),
        lifetime_ns=450_000_000)))
    # a frame_locked=false cube in 'mover', stamped 1.31 s, received 1.4 s
    msgs.append((at(1.4), "/visualization_marker", m.marker(
        at(1.31), "stamped", 2, 1, "mover", (0, 0, 0.5), (0.2,) * 3, (1, 0, 1, 1),
        frame_locked=False)))
    # text from 0.3 s and other text from 2.4 s
    msgs.append((at(0.3), "/visualization_marker", m.marker(
        at(0.3), "early", 3, 9, "world", (0, 1, 1), (0, 0, 0.3), (1, 1, 0, 1), text="early bird")))
    msgs.append((at(2.4), "/visualization_marker", m.marker(
        at(2.4), "late", 4, 9, "world", (0, -1, 1), (0, 0, 0.3), (0, 1, 1, 1), text="LATE #42!")))
    # DELETEALL on the marker topic at 2.05 s (the cube, the spheres, the texts so far)
    msgs.append((at(2.05), "/visualization_marker", m.marker(
        at(2.05), "", 0, 0, "world", (0, 0, 0), (1, 1, 1), (1, 1, 1, 1), action=3)))
    # a camera frame whose TF starts at 1.25 s
    for i in range(18):
        t = 1.25 + i * 0.1
        msgs.append((at(t), "/tf", m.tf_message(m.tf(at(t), "world", "late_cam",
                                                     (-3.0 + 0.2 * i, -0.5, 1.0)))))
    msgs.sort(key=lambda e: e[0])
    return write_bag(path, msgs, store, storage=storage)


def fixed(**kw):
    return RenderOptions.create(fixed_frame="world", eye=(-1.0, -4.0, 2.5), target=(0.5, 0, 0.3),
                                width=W, height=H, rate=RATE, **kw)


def riding(**kw):
    return RenderOptions.create(fixed_frame="world", camera_frame="late_cam", width=W, height=H,
                                rate=RATE, **kw)


def video_frames(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def same_tree(a: Path, b: Path) -> None:
    """Same files with the same bytes (a file, or a folder's files)."""
    if a.is_file():
        assert a.read_bytes() == b.read_bytes(), f"{a} and {b} differ"
        return
    names = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for n in names:
        assert (a / n).read_bytes() == (b / n).read_bytes(), f"{n} differs"


# -- units --------------------------------------------------------------------------------------------
def test_split_covers_the_ticks_in_order():
    assert split(30, 3) == [range(10), range(10, 20), range(20, 30)]
    assert split(10, 4) == [range(3), range(3, 6), range(6, 8), range(8, 10)]
    assert split(2, 3) == [range(1), range(1, 2), range(2, 2)]
    for n, k in ((0, 1), (7, 7), (601, 16)):
        parts = split(n, k)
        assert len(parts) == k and [t for r in parts for t in r] == list(range(n))
        assert max(map(len, parts)) - min(map(len, parts)) <= 1
    with pytest.raises(ValueError):
        split(5, 0)


def test_spool_is_read_while_it_grows(tmp_path):
    path = tmp_path / "s.spool"
    writer = SpoolWriter(path)
    reader = SpoolReader(path)
    done = threading.Event()
    frames = [SpooledFrame(k, T0_NS + k, "", [("/vuer/image", "sensor_msgs/msg/Image", bytes([k]) * 9)],
                           None) for k in range(5)]

    def write() -> None:
        for f in frames:
            writer.write(f)
        done.set()

    waits = []

    def wait() -> None:
        waits.append(1)
        if len(waits) == 1:   # the reader found nothing yet: the writer starts now
            threading.Thread(target=write).start()
        time.sleep(0.005)

    got = []
    while (f := reader.next(done.is_set, wait)) is not None:
        got.append(f)
    assert [(f.index, f.stamp_ns, f.messages) for f in got] == \
        [(f.index, f.stamp_ns, f.messages) for f in frames]
    writer.close()
    # a record cut short (a worker killed mid-write) is not taken for a frame
    with open(path, "ab") as f:
        f.write((1000).to_bytes(8, "little") + b"partial")
    reader2 = SpoolReader(path)
    assert [reader2.next(lambda: True, wait).index for _ in range(5)] == list(range(5))
    assert reader2.next(lambda: True, wait) is None
    reader.close()
    reader2.close()


# -- renders ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    """One-job references (one Chromium for all), then the same in segments."""
    root = tmp_path_factory.mktemp("segments")
    bag = segment_bag(root / "in.mcap")
    bag_db = segment_bag(root / "in_bag", storage="sqlite3")
    one, many = root / "one", root / "many"
    for d in (one, many):
        (d / "ride").mkdir(parents=True)
        (d / "video").mkdir(parents=True)

    async def references():
        async with Renderer(W, H) as r:
            return {
                "fixed": await render_bag_async(bag, one / "out.mcap", video=one / "out.mp4",
                                                frames=one / "frames", options=fixed(),
                                                renderer=r),
                "ride": await render_bag_async(bag_db, one / "ride" / "out", options=riding(),
                                               renderer=r),
                "video": await render_bag_async(bag, None, video=one / "video" / "out.mp4",
                                                frames=one / "video" / "frames",
                                                options=fixed(), renderer=r)}

    out = {"one": asyncio.run(asyncio.wait_for(references(), 240)), "root": root}
    out["many"] = {
        "fixed": render_bag_jobs(bag, many / "out.mcap", video=many / "out.mp4",
                                 frames=many / "frames", options=fixed(), jobs=3),
        "ride": render_bag_jobs(bag_db, many / "ride" / "out", options=riding(), jobs=3),
        "video": render_bag_jobs(bag, None, video=many / "video" / "out.mp4",
                                 frames=many / "video" / "frames", options=fixed(), jobs=2)}
    return out


def test_jobs_give_the_one_job_bag_byte_for_byte(renders):
    root = renders["root"]
    one, many = renders["one"]["fixed"], renders["many"]["fixed"]
    assert (many.frames, many.skipped, many.total, many.interrupted) == (30, 0, 30, False)
    assert many.stamps == one.stamps == [at(k / RATE) for k in range(30)]
    assert many.copied == one.copied > 0
    same_tree(root / "one" / "out.mcap", root / "many" / "out.mcap")
    # and what a reader sees: every topic's messages in order
    a, b = read_bag(root / "one" / "out.mcap"), read_bag(root / "many" / "out.mcap")
    assert a.keys() == b.keys()
    for topic in a:
        assert [(t, raw) for t, _, raw, _ in a[topic]] == [(t, raw) for t, _, raw, _ in b[topic]]


def test_jobs_give_the_same_pngs_and_video(renders):
    root = renders["root"]
    same_tree(root / "one" / "frames", root / "many" / "frames")   # PNGs and timestamps.csv
    with open(root / "many" / "frames" / "timestamps.csv") as f:
        assert [int(r["index"]) for r in csv.DictReader(f)] == list(range(30))
    a, b = video_frames(root / "one" / "out.mp4"), video_frames(root / "many" / "out.mp4")
    assert len(a) == len(b) == 30
    for k, (x, y) in enumerate(zip(a, b)):
        assert np.array_equal(x, y), f"video frame {k} differs"
    assert (root / "one" / "out.mp4").read_bytes() == (root / "many" / "out.mp4").read_bytes()


def test_the_scene_at_a_segment_start_is_the_whole_runs(renders):
    """The history that crosses the boundaries changed the pixels (so comparing them
    means something), and frames next to each boundary are equal."""
    frames = renders["root"] / "many" / "frames"
    import cv2

    def png(k):
        return cv2.imread(str(frames / f"frame_{k:06d}.png"))

    green = [int(((p[..., 1] > 150) & (p[..., 0] < 80) & (p[..., 2] < 80)).sum())
             for p in map(png, range(30))]
    # the sphere (a disc of about 30 pixels here) only while it lives
    assert min(green[9:14]) >= 20 and green[8] <= 5 and green[14] <= 5, green
    for k in (9, 10, 19, 20):
        assert (renders["root"] / "one" / "frames" / f"frame_{k:06d}.png").read_bytes() == \
            (frames / f"frame_{k:06d}.png").read_bytes()


def test_ticks_without_a_camera_pose_across_segments(renders):
    root = renders["root"]
    one, many = renders["one"]["ride"], renders["many"]["ride"]
    # late_cam's TF starts at 1.25 s: ticks 0-12 have no camera (segment 1 wholly, 2 partly)
    assert one.skipped == many.skipped == 13
    assert many.frames == one.frames == 17 and many.stamps == one.stamps
    same_tree(root / "one" / "ride" / "out", root / "many" / "ride" / "out")


def test_video_only_jobs_spool_the_images(renders):
    root = renders["root"]
    same_tree(root / "one" / "video", root / "many" / "video")


# -- the command ----------------------------------------------------------------------------------------
def render_bag_cmd(*args):
    return [sys.executable, "-m", "vuer_ros.bag", *map(str, args), "--fixed-frame", "world",
            "--size", f"{W}x{H}", "--eye", "0", "-3", "1.2", "--target", "0", "0", "0.15"]


def test_ctrl_c_with_jobs_leaves_readable_outputs_up_to_the_first_gap(tmp_path):
    import av

    from vuer_ros.bag.synthetic import write_demo_bag

    bag = write_demo_bag(tmp_path / "in.mcap", duration=30.0, tf_rate=50.0)
    out, video, frames = tmp_path / "out.mcap", tmp_path / "out.mp4", tmp_path / "frames"
    # both workers rendered some: segment 2's first frame is tick 150
    code, err = ctrl_c_when(
        render_bag_cmd(bag, "-o", out, "--video", video, "--frames", frames, "--jobs", "2"),
        lambda: (frames / "frame_000000.png").exists() and (frames / "frame_000151.png").exists()
        and len(list(frames.glob("frame_*.png"))) >= 8, 120)
    assert code == 130, err
    assert "interrupted after" in err and "closed and readable" in err, err
    result = read_bag(out)
    stamps = [t for t, *_ in result["/vuer/image"]]
    n = len(stamps)
    assert 1 <= n < 300    # up to the first tick not rendered (segment 1 may have finished)
    assert stamps == [T0_NS + k * 100_000_000 for k in range(n)]      # no gap
    assert len(result["/vuer/image/compressed"]) == len(result["/vuer/camera_info"]) == n
    assert max(t for t, *_ in result["/tf"]) == stamps[-1]             # input copied up to it
    with av.open(str(video)) as container:
        assert sum(1 for _ in container.decode(video=0)) == n
    pngs = sorted(p.name for p in frames.glob("frame_*.png"))
    assert {f"frame_{k:06d}.png" for k in range(n)} <= set(pngs)
    assert "frame_000150.png" in pngs                                   # segment 2's stay
    with open(frames / "timestamps.csv") as f:
        assert sorted(r["file"] for r in csv.DictReader(f)) == pngs     # and are indexed
    assert not list(tmp_path.glob(".vuer-segments-*"))                  # spools removed


def test_a_worker_that_cannot_render_fails_the_command_in_one_line(tmp_path):
    from vuer_ros.bag.synthetic import write_demo_bag

    bag = write_demo_bag(tmp_path / "in.mcap", duration=2.0)
    out = tmp_path / "out.mcap"
    r = subprocess.run(render_bag_cmd(bag, "-o", out, "--jobs", "2", "--quiet"),
                       capture_output=True, text=True, timeout=180,
                       env={**os.environ, "VUER_ROS_CHROMIUM": str(tmp_path / "no-chromium")})
    assert r.returncode == 1, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("vuer-ros render-bag: error: segment "), r.stderr
    assert "Traceback" not in r.stderr
    read_bag(out)   # closed and readable (no frames)
    assert not list(tmp_path.glob(".vuer-segments-*"))


def test_several_cameras_and_a_following_one_join_as_one_job(tmp_path):
    """Listed cameras (a video and a PNG folder each, their own topics, an orbit whose
    pose goes on /tf with each frame) and a camera following a frame: --jobs 3 writes
    what one job writes."""
    import argparse

    from vuer_ros.bag.cli import add_arguments, run

    bag = segment_bag(tmp_path / "in.mcap")
    (tmp_path / "orbit.yaml").write_text(
        "orbit: {frame: mover, radius: 2.5, height: 1.2, period: 4.0, angle: -90}\n")
    (tmp_path / "cameras.yaml").write_text(
        "wide: {width: 200, height: 120, fov: 70.0, eye: [4.5, -4.5, 3.5], target: [0, 1, 0.2]}\n"
        "orbit: {width: 160, height: 120, fov: 40.0, path: orbit.yaml}\n")
    for case, extra in (("cams", ["--cameras", tmp_path / "cameras.yaml"]),
                        ("follow", ["--target-frame", "mover"])):
        for jobs in (1, 3):
            out = tmp_path / case / str(jobs)
            out.mkdir(parents=True)
            parser = argparse.ArgumentParser()
            add_arguments(parser)
            args = parser.parse_args([str(a) for a in [
                bag, "-o", out / "out.mcap", "--video", out / "out.mp4", "--frames", out / "frames",
                "--fixed-frame", "world", "--size", f"{W}x{H}", "--quiet", "--jobs", str(jobs),
                *extra]])
            assert run(args) == 0
        one, three = tmp_path / case / "1", tmp_path / case / "3"
        same_tree(one / "out.mcap", three / "out.mcap")
        same_tree(one / "frames", three / "frames")
        # videos: the same frames in, but libx264 (through PyAV) does not always give the
        # same bytes for a small, fast-moving camera when other work shares its thread (a
        # whole run that writes a bag differs from one that does not): compare frame counts
        for video in one.glob("*.mp4"):
            assert len(video_frames(video)) == len(video_frames(three / video.name)) == 30
    names = sorted(p.name for p in (tmp_path / "cams" / "3").iterdir())
    assert names == ["frames", "out.mcap", "out_orbit.mp4", "out_wide.mp4"], names
    assert sorted(p.name for p in (tmp_path / "cams" / "3" / "frames").iterdir()) == ["orbit", "wide"]
