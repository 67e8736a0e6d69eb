"""Clear errors: each bad input ends `render-bag` with exit code 2 and one line
on stderr that says what is wrong and what to do, before any browser starts."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from vuer_ros.bag import BagReadError, FrameError, RenderOptions, TopicError, render_bag
from vuer_ros.bag.cli import add_arguments, run
from vuer_ros.bag.synthetic import write_demo_bag

PREFIX = "vuer-ros render-bag: error: "


@pytest.fixture(scope="module")
def bags(tmp_path_factory):
    root = tmp_path_factory.mktemp("bag-errors")
    return {"mcap": write_demo_bag(root / "in.mcap", duration=1.0, storage="mcap"),
            "sqlite3": write_demo_bag(root / "in_bag", duration=1.0, storage="sqlite3"),
            "root": root}


def cli(argv, capsys):
    parser = argparse.ArgumentParser(prog="vuer-ros render-bag")
    add_arguments(parser)
    code = run(parser.parse_args([str(a) for a in argv]))
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith(PREFIX)]
    return code, errors, err


@pytest.fixture(params=["mcap", "sqlite3"])
def bag(request, bags):
    return bags[request.param]


@pytest.mark.parametrize("case", ["missing", "garbage-mcap", "garbage-db3", "folder", "ros1"])
def test_unreadable_bag(tmp_path, capsys, case):
    path = {"missing": tmp_path / "nope.mcap", "garbage-mcap": tmp_path / "x.mcap",
            "garbage-db3": tmp_path / "x.db3", "folder": tmp_path / "empty", "ros1": tmp_path / "old.bag"}[case]
    if case.startswith("garbage"):
        path.write_bytes(b"this is not a bag" * 100)
    elif case == "folder":
        path.mkdir()
    elif case == "ros1":
        path.write_bytes(b"#ROSBAG V2.0\n")
    code, errors, err = cli([path, "-o", tmp_path / "out.mcap"], capsys)
    assert code == 2 and len(errors) == 1, err
    assert str(path) in errors[0]
    assert ("does not exist" in errors[0] or "cannot read bag" in errors[0]
            or "ROS 1 bag" in errors[0]), errors[0]
    assert not (tmp_path / "out.mcap").exists()


def test_missing_topic_names_the_ones_there(bag, tmp_path, capsys):
    code, errors, err = cli([bag, "-o", tmp_path / "o.mcap", "--fixed-frame", "world",
                             "--topics", "/markers"], capsys)
    assert code == 2 and len(errors) == 1, err
    assert "topic /markers is not in bag" in errors[0] and "/visualization_marker" in errors[0]


def test_topic_of_another_type(bag, tmp_path, capsys):
    code, errors, _ = cli([bag, "-o", tmp_path / "o.mcap", "--fixed-frame", "world",
                           "--topics", "/chatter"], capsys)
    assert code == 2 and "is a std_msgs/msg/String, not a visualization_msgs" in errors[0]


def test_camera_frame_that_never_appears(bag, tmp_path, capsys):
    code, errors, _ = cli([bag, "-o", tmp_path / "o.mcap", "--fixed-frame", "world",
                           "--camera-frame", "camera_link"], capsys)
    assert code == 2
    assert "camera frame 'camera_link' never appears in the bag's TF" in errors[0]
    assert "mover_cam" in errors[0] and "--camera-frame" in errors[0]


def test_fixed_frame_that_never_appears(bag, tmp_path, capsys):
    # the node's default fixed frame is "map"; this bag's TF tree is rooted at "world"
    code, errors, _ = cli([bag, "-o", tmp_path / "o.mcap"], capsys)
    assert code == 2
    assert "fixed frame 'map' never appears" in errors[0] and "world" in errors[0]
    assert "--fixed-frame" in errors[0]


@pytest.mark.parametrize("args,text", [
    ([], "nothing to write"),
    (["--start", "5"], "after the bag's end"),
    (["--start", "0.5", "--end", "0.2"], "must be after --start"),
    (["--size", "10x10"], "render.width"),
    (["--camera-frame", "mover", "--eye", "1", "2", "3"], "not both"),
    (["--eye", "1", "2"], "--eye"),
    (["-p", "render.rate=0"], "render.rate"),
    (["-p", "no_such_param=1"], "unknown parameter"),
])
def test_bad_arguments(bags, tmp_path, capsys, args, text):
    outputs = [] if not args else ["-o", tmp_path / "o.mcap"]
    code, errors, err = cli([bags["mcap"], *outputs, "--fixed-frame", "world", *args], capsys)
    assert code == 2 and len(errors) == 1, err
    assert text in errors[0]


def test_existing_output_is_not_overwritten(bags, tmp_path, capsys):
    out = tmp_path / "o.mcap"
    out.write_bytes(b"keep me")
    code, errors, _ = cli([bags["mcap"], "-o", out, "--fixed-frame", "world"], capsys)
    assert code == 2 and "exists" in errors[0] and "--overwrite" in errors[0]
    assert out.read_bytes() == b"keep me"


def test_bad_config_file(bags, tmp_path, capsys):
    config = tmp_path / "viewer.yaml"
    config.write_text("/**:\n  ros__parameters:\n    render:\n      fov: 500.0\n")
    code, errors, _ = cli([bags["mcap"], "-o", tmp_path / "o.mcap", "--config", config], capsys)
    assert code == 2 and "render.fov" in errors[0] and "range" in errors[0]
    config.write_text("/**: [unclosed\n")
    code, errors, _ = cli([bags["mcap"], "-o", tmp_path / "o.mcap", "--config", config], capsys)
    assert code == 2 and "not valid YAML" in errors[0]


def test_api_raises_typed_errors(bags, tmp_path):
    with pytest.raises(BagReadError):
        render_bag(tmp_path / "nope.mcap")
    with pytest.raises(TopicError):
        render_bag(bags["mcap"], options=RenderOptions.create(fixed_frame="world", topics=["/x"]))
    with pytest.raises(FrameError):
        render_bag(bags["mcap"], options=RenderOptions.create(fixed_frame="base"))


def test_real_command_exit_code_and_one_line(bags, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "vuer_ros.cli", "render-bag", str(bags["sqlite3"]), "-o",
                           str(tmp_path / "o.db3"), "--fixed-frame", "world", "--topics", "/nope"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(PREFIX), proc.stderr


def test_real_command_logs_a_bad_marker_once_and_renders_every_frame(tmp_path):
    """A marker of an unknown type among good messages: one ``[ERROR]`` line naming it
    (bag/progress.py's log_above), every frame rendered, exit code 0."""
    from vuer_ros.bag.synthetic import T0_NS, MessageFactory, demo_messages, typestore, write_bag

    store = typestore("jazzy")
    bad = [(T0_NS + k * 100_000_000, "/visualization_marker",
            MessageFactory(store).marker(T0_NS, "broken", 7, 42, "world", (0, 0, 0), (1, 1, 1),
                                         (1, 0, 0, 1))) for k in range(5)]
    messages = sorted([*demo_messages(store, duration=1.0), *bad], key=lambda m: m[0])
    bag = write_bag(tmp_path / "in.mcap", messages, store)
    proc = subprocess.run([sys.executable, "-m", "vuer_ros.cli", "render-bag", str(bag), "-o",
                           str(tmp_path / "o.mcap"), "--fixed-frame", "world", "--size", "160x120"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    logged = [line for line in proc.stderr.splitlines() if line.startswith("[")]
    assert len(logged) == 1, proc.stderr
    assert logged[0] == "[ERROR] marker ns=broken id=7: unknown type 42 (known: 0..12, ARROW..ARROW_STRIP)"
    assert "vuer-ros render-bag: 10 frames" in proc.stderr, proc.stderr
