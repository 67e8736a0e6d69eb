"""render_bag end to end, both storage formats: real bags written with rosbags,
real Chromium (one for the whole module), outputs read back with rosbags.

Tick convention under test: frames at start + k/rate for every tick in the
half-open window [start, end); a 2.0 s bag at 10 Hz gives exactly 20 frames.
"""

from __future__ import annotations

import asyncio
import csv
import math
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from vuer_ros.bag import RenderOptions, Renderer, render_bag_async
from vuer_ros.bag.synthetic import (
    CAMERA_MOUNT,
    CAMERA_PITCH,
    CUBE_SIZE,
    T0_NS,
    MessageFactory,
    mover_position,
    typestore,
    write_bag,
    write_demo_bag,
)
from vuer_ros.render.camera import RenderCamera
from vuer_ros.scene.transform import Transform

from bag_helpers import (
    box_corners,
    camera_from_output,
    centroid,
    colour_mask,
    image_array,
    predicted_centroid,
    read_bag,
    red_mask,
    stamp_ns,
)

W, H, FOV, RATE = 160, 120, 60.0, 10.0
EYE, TARGET = (0.0, -3.0, 1.2), (0.0, 0.0, 0.15)
# storage -> (input path, output path, message definitions): a bare .mcap file with
# Jazzy definitions, and a sqlite3 rosbag2 folder with Humble ones
STORAGES = {"mcap": ("in.mcap", "out.mcap", "jazzy"), "sqlite3": ("in_bag", "out.db3", "humble")}
IMAGE_TOPICS = {"/vuer/image": "sensor_msgs/msg/Image",
                "/vuer/image/compressed": "sensor_msgs/msg/CompressedImage",
                "/vuer/camera_info": "sensor_msgs/msg/CameraInfo"}
# REP 103 body frame -> optical frame (x right = -y body, y down = -z body, z forward = x body)
BODY_TO_OPTICAL = (-0.5, 0.5, -0.5, 0.5)


# the TF display's red, green and blue axes would be in the colour masks
NO_TF_DISPLAY = {"displays.tf.enabled": False}


def fixed_options(**kw):
    return RenderOptions.create(params=NO_TF_DISPLAY, fixed_frame="world", eye=EYE, target=TARGET,
                                width=W, height=H, fov=FOV, rate=RATE, **kw)


def semantics_bag(path, storage):
    """Marker semantics over time: lifetime, DELETEALL, a frame_locked=false marker."""
    store = typestore()
    m = MessageFactory(store)
    msgs = []
    for i in range(0, 101):                      # /tf at 50 Hz for 2 s: world -> mover
        t = T0_NS + i * 20_000_000
        msgs.append((t, "/tf", m.tf_message(m.tf(t, "world", "mover", mover_position(i * 0.02)))))

    def at(s):
        return T0_NS + round(s * 1e9)
    # blue cube forever, until DELETEALL at 1.05 s
    msgs.append((at(0.0), "/visualization_marker",
                 m.marker(at(0.0), "keep", 0, 1, "world", (0.8, 0, 0.15), (0.25,) * 3, (0, 0, 1, 1))))
    # green sphere with a 0.45 s lifetime from 0.2 s (gone at 0.65 s)
    msgs.append((at(0.2), "/visualization_marker",
                 m.marker(at(0.2), "short", 1, 2, "world", (-0.8, 0, 0.6), (0.25,) * 3, (0, 1, 0, 1),
                          lifetime_ns=450_000_000)))
    # red cube in 'mover', frame_locked=false, stamped 0.51 s, received 0.6 s: placed once
    # where mover was at 0.51 s (interpolated between the 0.50 and 0.52 s transforms)
    msgs.append((at(0.6), "/visualization_marker",
                 m.marker(at(0.51), "stamped", 2, 1, "mover", (0, 0, 0), (0.25,) * 3, (1, 0, 0, 1),
                          frame_locked=False)))
    msgs.append((at(1.05), "/visualization_marker",
                 m.marker(at(1.05), "", 0, 0, "world", (0, 0, 0), (1, 1, 1), (1, 1, 1, 1), action=3)))
    msgs.sort(key=lambda e: e[0])
    return write_bag(path, msgs, store, storage=storage)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("bag-render")

    async def main():
        out = {}
        async with Renderer(W, H) as renderer:
            for storage, (src, dst, distro) in STORAGES.items():
                d = root / storage
                d.mkdir()
                bag = write_demo_bag(d / src, duration=2.0, tf_rate=50.0, storage=storage,
                                     distro=distro)
                ext = dst.rsplit(".", 1)[1]
                r = {"in": bag, "dir": d}
                for run in ("a", "b"):
                    r[run] = await render_bag_async(
                        bag, d / f"{run}.{ext}", video=d / f"{run}.mp4", frames=d / f"{run}-frames",
                        options=fixed_options(), renderer=renderer)
                    r[run + "_bag"] = d / f"{run}.{ext}"
                r["window"] = await render_bag_async(
                    bag, d / f"window.{ext}", options=fixed_options(start=0.5, end=1.5, depth=True),
                    renderer=renderer)
                r["window_bag"] = d / f"window.{ext}"
                r["ride"] = await render_bag_async(
                    bag, d / f"ride.{ext}", frames=d / "ride-frames", renderer=renderer,
                    options=RenderOptions.create(params=NO_TF_DISPLAY, fixed_frame="world",
                                                 camera_frame="mover_cam",
                                                 width=W, height=H, fov=FOV, rate=RATE))
                r["ride_bag"] = d / f"ride.{ext}"
                sem = semantics_bag(d / f"semantics.{ext}", storage)
                r["sem"] = await render_bag_async(sem, d / f"sem-out.{ext}", options=fixed_options(),
                                                  renderer=renderer)
                r["sem_bag"] = d / f"sem-out.{ext}"
                out[storage] = r
        return out

    return asyncio.run(asyncio.wait_for(main(), 240))


@pytest.fixture(params=sorted(STORAGES))
def run(request, runs):
    return runs[request.param]


def ticks(n, start_s=0.0):
    return [T0_NS + round((start_s + k / RATE) * 1e9) for k in range(n)]


def test_frame_count_is_duration_times_rate(run):
    for name in ("a", "b", "ride", "sem"):
        summary = run[name]
        assert summary.total == 20 and summary.frames == 20 and summary.skipped == 0
        assert summary.stamps == ticks(20)
        assert not summary.interrupted
    bag = read_bag(run["a_bag"])
    assert [t for t, *_ in bag["/vuer/image"]] == ticks(20)


def test_start_and_end_select_a_half_open_window(run):
    summary = run["window"]
    assert summary.frames == 10 and summary.stamps == ticks(10, 0.5)
    bag = read_bag(run["window_bag"])
    assert [t for t, *_ in bag["/vuer/image"]] == ticks(10, 0.5)
    # the copy holds the input up to the window's end (exclusive): the scene the frames saw
    assert max(t for msgs in bag.values() for t, *_ in msgs) < T0_NS + 1_500_000_000


def test_depth_is_metres_along_the_optical_axis(run):
    bag = read_bag(run["window_bag"])
    assert [t for t, *_ in bag["/vuer/depth"]] == ticks(10, 0.5)
    for (t, d, _, conn), (_, img, _, _) in zip(bag["/vuer/depth"], bag["/vuer/image"]):
        assert conn.msgtype == "sensor_msgs/msg/Image" and d.encoding == "32FC1"
        assert (d.width, d.height, d.step) == (W, H, W * 4) and stamp_ns(d.header.stamp) == t
        depth = np.frombuffer(np.asarray(d.data, np.uint8).tobytes(),
                              dtype=">f4" if d.is_bigendian else "<f4").reshape(H, W)
        assert np.isinf(depth[0, 0])                         # sky: nothing hit
        u, v = np.round(centroid(red_mask(image_array(img)))).astype(int)
        camera = camera_from_output(bag)
        z_center = camera.world_to_optical(np.array([mover_position((t - T0_NS) / 1e9)]))[0, 2]
        assert z_center - CUBE_SIZE[0] <= depth[v, u] <= z_center


def test_moving_cube_is_where_the_pinhole_model_puts_it(run):
    bag = read_bag(run["a_bag"])
    for k, (t, img, _, _) in enumerate(bag["/vuer/image"]):
        camera = camera_from_output(bag, k)
        center = mover_position((t - T0_NS) / 1e9)   # TF at 50 Hz: a sample at every tick
        want = predicted_centroid(camera, box_corners(center, CUBE_SIZE))
        got = centroid(red_mask(image_array(img)))
        assert np.linalg.norm(got - want) <= 2.0, (k, got, want)
    # it moved: about 2 m across the image in 2 s
    first = centroid(red_mask(image_array(bag["/vuer/image"][0][1])))
    last = centroid(red_mask(image_array(bag["/vuer/image"][-1][1])))
    assert last[0] - first[0] > 40


def test_repeat_runs_are_identical(run):
    a, b = read_bag(run["a_bag"]), read_bag(run["b_bag"])
    for topic in ("/vuer/image", "/vuer/image/compressed", "/vuer/camera_info"):
        assert [raw for _, _, raw, _ in a[topic]] == [raw for _, _, raw, _ in b[topic]], topic
    pngs = sorted((run["dir"] / "a-frames").glob("frame_*.png"))
    assert len(pngs) == 20
    for p in pngs:
        assert p.read_bytes() == (run["dir"] / "b-frames" / p.name).read_bytes(), p.name
    assert (run["dir"] / "a.mp4").read_bytes() == (run["dir"] / "b.mp4").read_bytes()


ENCODE = """
import sys
from pathlib import Path
import cv2
import numpy as np
from vuer_ros.bag.outputs import VideoOutput
w, h = int(sys.argv[2]), int(sys.argv[3])
video = VideoOutput(Path(sys.argv[1]), 10.0, w, h)
for i in range(25):   # a gradient, a ball rolling right, a box sliding down
    rgb = np.full((h, w, 3), 40, np.uint8)
    rgb[:, :, 2] = np.linspace(30, 200, w, dtype=np.uint8)[None, :]
    cv2.circle(rgb, (20 + 4 * i, h // 2), 15, (200, 30, 30), -1)
    cv2.rectangle(rgb, (w - 40, 10 + 2 * i), (w - 10, 40 + 2 * i), (30, 200, 30), -1)
    video.write(i, rgb)
video.close()
"""


@pytest.mark.parametrize("size", [(160, 120), (320, 240)])
def test_video_bytes_do_not_depend_on_what_malloc_hands_out(tmp_path, size):
    """The same frames encoded in processes whose fresh memory holds different bytes
    (glibc's MALLOC_PERTURB_) make one video. With x264's macroblock tree on, these sizes
    gave a different video for almost every value (it reads memory it never wrote), and a
    video joined from segments differed from a single run's."""
    videos = set()
    for perturb in ("0", "1", "77", "200"):
        out = tmp_path / f"perturb{perturb}.mp4"
        subprocess.run([sys.executable, "-c", ENCODE, str(out), *map(str, size)],
                       env={**os.environ, "MALLOC_PERTURB_": perturb}, check=True, timeout=120)
        videos.add(out.read_bytes())
    assert len(videos) == 1


def test_output_bag_types_stamps_and_camera(run):
    bag = read_bag(run["a_bag"])
    for topic, msgtype in IMAGE_TOPICS.items():
        msgs = bag[topic]
        assert len(msgs) == 20
        assert {c.msgtype for *_, c in msgs} == {msgtype}
        for t, msg, _, _ in msgs:
            assert stamp_ns(msg.header.stamp) == t          # header stamp = bag time = tick
            assert msg.header.frame_id == "vuer_camera_optical"
    for (_, img, _, _), (_, jpg, _, _) in zip(bag["/vuer/image"], bag["/vuer/image/compressed"]):
        rgb = image_array(img)
        assert rgb.shape == (H, W, 3)
        assert jpg.format == "rgb8; jpeg compressed bgr8"
        decoded = cv2.cvtColor(cv2.imdecode(np.asarray(jpg.data, np.uint8), cv2.IMREAD_COLOR),
                               cv2.COLOR_BGR2RGB)
        assert np.abs(decoded.astype(int) - rgb).mean() < 4
    info = bag["/vuer/camera_info"][0][1]
    expected = RenderCamera.look_at(EYE, TARGET, width=W, height=H, fov_y=FOV)
    assert (info.width, info.height, info.distortion_model) == (W, H, "plumb_bob")
    np.testing.assert_allclose(np.asarray(info.k).reshape(3, 3), expected.K)
    np.testing.assert_allclose(np.asarray(info.p).reshape(3, 4)[:, :3], expected.K)
    # the camera's optical frame: on /tf_static, transient local, stamped at the first tick
    (t, msg, _, conn), = [m for m in bag["/tf_static"]
                          if any(x.child_frame_id == "vuer_camera_optical" for x in m[1].transforms)]
    assert t == T0_NS and stamp_ns(msg.transforms[0].header.stamp) == T0_NS
    assert conn.ext.offered_qos_profiles[0].durability.name == "TRANSIENT_LOCAL"
    camera = camera_from_output(bag)
    np.testing.assert_allclose(camera.position, EYE)
    np.testing.assert_allclose(np.abs(np.dot(camera.orientation, expected.orientation)), 1.0, atol=1e-9)


def test_input_messages_are_copied_byte_for_byte(run):
    with_input = read_bag(run["in"])
    out = read_bag(run["a_bag"])
    assert set(with_input) <= set(out)
    for topic, msgs in with_input.items():
        copied = [(t, raw) for t, _, raw, _ in out[topic]
                  if not (topic == "/tf_static" and b"vuer_camera_optical" in raw)]
        assert copied == [(t, raw) for t, _, raw, _ in msgs], topic
        cin, cout = msgs[0][3], out[topic][0][3]
        assert (cout.msgtype, cout.digest, cout.msgdef.data) == (cin.msgtype, cin.digest, cin.msgdef.data)
    blob = out["/blob"]
    assert blob[0][3].msgtype == "vuer_test_msgs/msg/Blob" and blob[3][1].note == "blob 3"


def test_video_and_png_frames_match_the_images(run):
    import av

    bag = read_bag(run["a_bag"])
    images = [image_array(m) for _, m, _, _ in bag["/vuer/image"]]
    rows = list(csv.DictReader(open(run["dir"] / "a-frames" / "timestamps.csv")))
    assert [int(r["stamp_ns"]) for r in rows] == ticks(20)
    for row, rgb in zip(rows, images):
        png = cv2.cvtColor(cv2.imread(str(run["dir"] / "a-frames" / row["file"])), cv2.COLOR_BGR2RGB)
        assert np.array_equal(png, rgb)
    with av.open(str(run["dir"] / "a.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert float(stream.average_rate) == pytest.approx(RATE)
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 20
    for frame, rgb in zip(frames, images):
        assert frame.shape == rgb.shape
        assert np.abs(frame.astype(int) - rgb).mean() < 6   # lossy H.264, 4:2:0


def test_camera_riding_a_frame_follows_it(run):
    bag = read_bag(run["ride_bag"])
    (mount,) = [x for _, m, _, _ in bag["/tf_static"] for x in m.transforms
                if x.child_frame_id == "vuer_camera_optical"]
    assert mount.header.frame_id == "mover_cam"
    q = mount.transform.rotation
    assert abs(np.dot([q.x, q.y, q.z, q.w], BODY_TO_OPTICAL)) == pytest.approx(1.0)   # q ~ -q
    cam_q = (0.0, math.sin(CAMERA_PITCH / 2), 0.0, math.cos(CAMERA_PITCH / 2))
    centroids = []
    for t, img, _, _ in bag["/vuer/image"]:
        pose = (Transform(mover_position((t - T0_NS) / 1e9)) @ Transform(CAMERA_MOUNT, cam_q)
                @ Transform((0.0, 0.0, 0.0), BODY_TO_OPTICAL))
        camera = RenderCamera(W, H, FOV, 0.05, 100.0, np.array(pose.translation), np.array(pose.rotation))
        want = predicted_centroid(camera, box_corners(mover_position((t - T0_NS) / 1e9), CUBE_SIZE))
        got = centroid(red_mask(image_array(img)))
        assert np.linalg.norm(got - want) <= 2.0
        centroids.append(got)
    # camera and cube move together: the cube stays put in the image, centred left-right
    assert np.ptp(np.array(centroids), axis=0).max() < 0.5
    assert abs(centroids[0][0] - (W - 1) / 2) < 1.0


def test_marker_lifetime_deleteall_and_stamped_placement(run):
    bag = read_bag(run["sem_bag"])
    images = [image_array(m) for _, m, _, _ in bag["/vuer/image"]]
    assert len(images) == 20
    seen = {name: [int(colour_mask(img, ch).sum() > 4) for img in images]
            for name, ch in (("red", 0), ("green", 1), ("blue", 2))}
    # tick k is at k * 0.1 s
    assert seen["blue"] == [1] * 11 + [0] * 9                    # DELETEALL at 1.05 s
    assert seen["green"] == [0, 0] + [1] * 5 + [0] * 13          # 0.2 s + 0.45 s lifetime
    assert seen["red"] == [0] * 6 + [1] * 5 + [0] * 9            # received 0.6 s, deleted 1.05 s
    camera = camera_from_output(bag)
    want = predicted_centroid(camera, box_corners((-0.49, 0.0, 0.15), (0.25,) * 3))
    for k in range(6, 11):   # placed once at mover's pose at its stamp; mover moved on
        assert np.linalg.norm(centroid(colour_mask(images[k], 0)) - want) <= 2.0, k
