"""Ctrl-C during `render-bag` leaves complete, readable outputs: the CLI runs in
a subprocess (its own Chromium), gets SIGINT after a few frames, and exits 130;
the bag, the MP4 and the PNG folder then hold the same frames, in order."""

from __future__ import annotations

import sys

import pytest

from vuer_ros.bag.synthetic import T0_NS, write_demo_bag

from bag_helpers import ctrl_c_when, read_bag


@pytest.mark.parametrize("storage,out_name", [("mcap", "out.mcap"), ("sqlite3", "out_bag")])
def test_sigint_leaves_readable_partial_outputs(tmp_path, storage, out_name):
    import av

    bag = write_demo_bag(tmp_path / f"in-{storage}", duration=30.0, tf_rate=50.0, storage=storage)
    out, video, frames = tmp_path / out_name, tmp_path / "out.mp4", tmp_path / "frames"
    cmd = [sys.executable, "-m", "vuer_ros.bag", str(bag), "-o", str(out), "--video", str(video),
           "--frames", str(frames), "--fixed-frame", "world", "--size", "160x120",
           "--eye", "0", "-3", "1.2", "--target", "0", "0", "0.15"]
    if storage == "mcap":
        cmd += ["--storage", "mcap"]
    code, err = ctrl_c_when(cmd, lambda: len(list(frames.glob("frame_*.png"))) >= 5, 60)
    assert code == 130, err
    assert "interrupted after" in err and "closed and readable" in err, err

    result = read_bag(out)
    stamps = [t for t, *_ in result["/vuer/image"]]
    n = len(stamps)
    assert 5 <= n < 300
    assert stamps == [T0_NS + k * 100_000_000 for k in range(n)]
    assert len(result["/vuer/image/compressed"]) == len(result["/vuer/camera_info"]) == n
    # the input was copied up to the last rendered tick, no further
    assert max(t for t, *_ in result["/tf"]) == stamps[-1]
    assert sorted(p.name for p in frames.glob("frame_*.png")) == [f"frame_{k:06d}.png" for k in range(n)]
    with av.open(str(video)) as container:
        assert sum(1 for _ in container.decode(video=0)) == n
