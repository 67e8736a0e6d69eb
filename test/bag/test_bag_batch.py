"""vuer-ros render-bags: many bags on a Ray cluster the test starts (small: 2 CPUs, no
dashboard, a small object store, on 127.0.0.1) and on the local process pool (with
Ray made unimportable): every bag renders exactly as `render-bag` renders it alone
(bytes of the bag, the video and the PNGs), a corrupt bag fails alone with its one-line
error, the manifest says so, and a rerun does no work. Real Chromium in every task."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bag_helpers import ctrl_c_when, read_bag

from vuer_ros.bag import Renderer, RenderOptions, render_bag_async
from vuer_ros.bag.inputs import InputError, find_bags, output_names
from vuer_ros.bag.manifest import BagEntry, Manifest
from vuer_ros.bag.synthetic import write_demo_bag

W, H = 160, 120
SCENE = ["--fixed-frame", "world", "--size", f"{W}x{H}", "--eye", "0", "-3", "1.2",
         "--target", "0", "0", "0.15"]


def options():
    return RenderOptions.create(fixed_frame="world", width=W, height=H, eye=(0, -3, 1.2),
                                target=(0, 0, 0.15))


def render_bags_cmd(*args):
    return [sys.executable, "-m", "vuer_ros.bag.batch_cli", *map(str, args), *SCENE]


def run_cmd(args, timeout=300, env=None, prelude=""):
    """The command in a fresh interpreter (``prelude``: Python run first)."""
    code = f"{prelude}\nimport sys\nfrom vuer_ros.bag.batch_cli import main\nmain(sys.argv[1:])"
    return subprocess.run([sys.executable, "-c", code, *map(str, args), *SCENE],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


# -- inputs and the manifest (no rendering) ----------------------------------------------------------
def test_inputs_folders_globs_and_list_files(tmp_path):
    fleet = tmp_path / "fleet"
    for p in ("a/run1.mcap", "a/deep/run2.db3", "b/run3/metadata.yaml", "b/run3/run3_0.db3",
              "b/notes.txt", ".hidden/x.mcap"):
        (fleet / p).parent.mkdir(parents=True, exist_ok=True)
        (fleet / p).write_text("x")
    out = fleet / "out"
    (out / "a").mkdir(parents=True)
    (out / "a" / "run1.mcap").write_text("an output, not an input")
    found = find_bags([str(fleet)], exclude=out)
    assert [(b.path, b.name) for b in found] == [
        (fleet / "a/run1.mcap", "a/run1"), (fleet / "a/deep/run2.db3", "a/deep/run2"),
        (fleet / "b/run3", "b/run3")]
    # a glob (recursive), a list file with comments and relative paths, duplicates once
    (tmp_path / "bags.txt").write_text("# mine\nfleet/b/run3\n\nfleet/a/run1.mcap  # again\n")
    found = find_bags([str(fleet / "**/*.mcap"), "@" + str(tmp_path / "bags.txt")],
                      exclude=out, cwd=tmp_path)
    assert [b.path for b in found] == [fleet / "a/run1.mcap", fleet / "b/run3"]
    assert [b.name for b in find_bags([str(fleet / "a/run1.mcap")])] == ["run1"]
    # names that would clash keep their suffix
    assert output_names([Path("/x/run.mcap"), Path("/x/run")]) == ["run_mcap", "run"]
    for bad, says in (([str(tmp_path / "nope.mcap")], "does not exist"),
                      ([str(tmp_path / "*.db3")], "matches no bag"),
                      ([str(tmp_path / "empty")], "holds no bag")):
        (tmp_path / "empty").mkdir(exist_ok=True)
        with pytest.raises(InputError, match=says):
            find_bags(bad)
    (tmp_path / "broken.txt").write_text("fleet/a/run1.mcap\nfleet/missing\n")
    with pytest.raises(InputError, match=r"broken.txt:2: input fleet/missing does not exist"):
        find_bags([str(tmp_path / "broken.txt")], cwd=tmp_path)


def test_manifest_is_replaced_atomically_and_knows_what_is_complete(tmp_path):
    (tmp_path / "r.mcap").write_bytes(b"12345")
    m = Manifest(tmp_path, ["fleet"])
    entry = BagEntry("r", "/in/r.mcap", status="done", outputs={"bag": "r.mcap"},
                     input_fingerprint=[["r.mcap", 5, 1]], options_fingerprint="o1")
    m.bags["r"] = entry
    m.finish(entry)
    m.save()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".manifest")] == []
    again = Manifest.load(tmp_path)
    e = again.bags["r"]
    assert e.output_sizes == {"bag": 5}
    assert again.complete(e, [("r.mcap", 5, 1)], "o1")
    assert not again.complete(e, [("r.mcap", 5, 2)], "o1")      # the input changed
    assert not again.complete(e, [("r.mcap", 5, 1)], "o2")      # other options
    (tmp_path / "r.mcap").write_bytes(b"1234")                   # an output cut short
    assert not again.complete(e, [("r.mcap", 5, 1)], "o1")
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(InputError, match="is not a render-bags manifest"):
        Manifest.load(tmp_path)


# -- rendering many bags -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """Three small bags (two robots' folders), a corrupt one, and each rendered alone."""
    root = tmp_path_factory.mktemp("fleet")
    bags = root / "bags"
    (bags / "robot1").mkdir(parents=True)
    (bags / "robot2").mkdir(parents=True)
    good = [write_demo_bag(bags / "robot1" / "morning.mcap", duration=2.0),
            write_demo_bag(bags / "robot1" / "evening", duration=1.5, storage="sqlite3"),
            write_demo_bag(bags / "robot2" / "run.mcap", duration=2.5, arm=True, array_markers=6)]
    corrupt = bags / "robot2" / "corrupt.mcap"
    corrupt.write_bytes(good[0].read_bytes()[:4000])
    names = {"robot1/morning": good[0], "robot1/evening": good[1], "robot2/run": good[2]}
    alone = root / "alone"

    async def serial():
        async with Renderer(W, H) as r:
            for name, bag in names.items():
                (alone / name).parent.mkdir(parents=True, exist_ok=True)
                await render_bag_async(bag, alone / f"{name}.mcap",
                                       video=alone / f"{name}.mp4",
                                       frames=alone / f"{name}.frames", options=options(),
                                       renderer=r)

    asyncio.run(asyncio.wait_for(serial(), 240))
    return {"root": root, "bags": bags, "names": names, "alone": alone}


def same_as_alone(fleet, out: Path) -> None:
    for name in fleet["names"]:
        for suffix in (".mcap", ".mp4"):
            assert (out / (name + suffix)).read_bytes() == \
                (fleet["alone"] / (name + suffix)).read_bytes(), name + suffix
        pngs = sorted(p.name for p in (fleet["alone"] / (name + ".frames")).iterdir())
        assert sorted(p.name for p in (out / (name + ".frames")).iterdir()) == pngs
        for p in pngs:
            assert (out / (name + ".frames") / p).read_bytes() == \
                (fleet["alone"] / (name + ".frames") / p).read_bytes(), f"{name} {p}"


def check_manifest(fleet, out: Path) -> dict:
    m = json.loads((out / "manifest.json").read_text())
    bags = {b["name"]: b for b in m["bags"]}
    assert sorted(bags) == sorted([*fleet["names"], "robot2/corrupt"])
    for name, path in fleet["names"].items():
        b = bags[name]
        assert b["status"] == "done" and b["input"] == str(path) and b["error"] == ""
        assert b["frames"] == b["total"] == {"robot1/morning": 20, "robot1/evening": 15,
                                             "robot2/run": 25}[name]
        assert b["outputs"] == {"bag": name + ".mcap", "video": name + ".mp4",
                                "frames": name + ".frames"}
    bad = bags["robot2/corrupt"]
    assert bad["status"] == "failed" and bad["exit_code"] == 2 and bad["outputs"] == {}
    assert bad["error_type"] == "BagReadError"
    assert "cannot read bag" in bad["error"] or "holds no messages" in bad["error"]
    assert m["totals"] == {"bags": 4, "done": 3, "failed": 1, "frames": 60}
    return bags


def rerun_does_no_work(fleet, out: Path, args: list, **kw) -> None:
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()
              and p.name != "manifest.json"}
    entries = json.loads((out / "manifest.json").read_text())["bags"]
    r = run_cmd(args, **kw)
    assert r.returncode == 1, r.stderr    # the corrupt bag is still a failure
    assert "0 rendered" in r.stderr and "3 complete already" in r.stderr, r.stderr
    assert "1 failed before on the same input" in r.stderr, r.stderr
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()
            and p.name != "manifest.json"} == before
    assert json.loads((out / "manifest.json").read_text())["bags"] == entries


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    context = ray.init(num_cpus=2, include_dashboard=False, object_store_memory=80 * 2**20,
                       _node_ip_address="127.0.0.1", log_to_driver=False)
    try:
        yield context.address_info["gcs_address"]
    finally:
        ray.shutdown()


def test_ray_renders_each_bag_as_alone_the_corrupt_one_fails_alone(fleet, ray_cluster, tmp_path):
    out = tmp_path / "out"
    args = [fleet["bags"], "-o", out, "--video", "--frames", "--ray-address", ray_cluster,
            "--cpus-per-task", "1"]
    r = run_cmd(args)
    assert r.returncode == 1, r.stderr
    assert "4 bags: 3 rendered (60 frames" in r.stderr and "1 failed" in r.stderr, r.stderr
    failed = [line for line in r.stderr.splitlines() if "failed: robot2/corrupt" in line]
    assert len(failed) == 1 and "Traceback" not in r.stderr, r.stderr
    same_as_alone(fleet, out)
    bags = check_manifest(fleet, out)
    assert all(b["host"] for b in bags.values())
    assert not (out / ".vuer-segments").exists()
    rerun_does_no_work(fleet, out, args)


def test_ray_segments_of_one_bag_are_joined_as_alone(fleet, ray_cluster, tmp_path):
    out = tmp_path / "out"
    bag = fleet["names"]["robot2/run"]
    r = run_cmd([bag, "-o", out, "--video", "--frames", "--ray-address", ray_cluster,
                 "--cpus-per-task", "1", "--segments", "2"])
    assert r.returncode == 0, r.stderr
    for suffix in (".mcap", ".mp4"):
        assert (out / ("run" + suffix)).read_bytes() == \
            (fleet["alone"] / ("robot2/run" + suffix)).read_bytes()
    entry = json.loads((out / "manifest.json").read_text())["bags"][0]
    assert (entry["status"], entry["segments"], entry["frames"]) == ("done", 2, 25)


def test_local_processes_without_ray(fleet, tmp_path):
    """The process pool (Ray not importable), segments too; then a rerun does no work."""
    out = tmp_path / "out"
    no_ray = "import sys; sys.modules['ray'] = None"
    args = [fleet["bags"], "-o", out, "--video", "--frames", "--jobs", "2", "--segments", "2"]
    r = run_cmd(args, prelude=no_ray)
    assert r.returncode == 1, r.stderr
    assert "3 rendered (60 frames" in r.stderr, r.stderr
    same_as_alone(fleet, out)
    check_manifest(fleet, out)
    rerun_does_no_work(fleet, out, args, prelude=no_ray)
    r = run_cmd([fleet["bags"], "-o", out, "--ray-address", "auto"], prelude=no_ray)
    assert r.returncode == 2 and "Ray is not installed" in r.stderr, r.stderr


def test_existing_outputs_are_kept_unless_the_manifest_wrote_them(fleet, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    mine = out / "morning.mcap"     # the two bags share robot1/: named morning and evening
    mine.write_bytes(b"someone else's file")
    args = [fleet["names"]["robot1/morning"], fleet["names"]["robot1/evening"], "-o", out,
            "--jobs", "1", "--quiet"]
    r = run_cmd(args)
    assert r.returncode == 1, r.stderr
    assert mine.read_bytes() == b"someone else's file"
    assert "failed: morning" in r.stderr and "exists and no earlier run" in r.stderr, r.stderr
    assert read_bag(out / "evening.mcap")["/vuer/image"]
    r = run_cmd(args + ["--overwrite"])
    assert r.returncode == 0 and "1 rendered" in r.stderr and "1 complete" in r.stderr, r.stderr
    assert mine.read_bytes() == (fleet["alone"] / "robot1" / "morning.mcap").read_bytes()


def test_ctrl_c_stops_every_bag_with_readable_outputs_and_a_rerun_finishes(fleet, tmp_path):
    long = write_demo_bag(tmp_path / "in" / "long.mcap", duration=30.0)
    other = write_demo_bag(tmp_path / "in" / "other.mcap", duration=30.0)
    out = tmp_path / "out"
    args = [tmp_path / "in", "-o", out, "--frames", "--jobs", "2"]
    code, err = ctrl_c_when(render_bags_cmd(*args), lambda: len(list(out.rglob("frame_*.png"))) >= 10, 120)
    assert code == 130, err
    bags = {b["name"]: b for b in json.loads((out / "manifest.json").read_text())["bags"]}
    assert {b["status"] for b in bags.values()} == {"interrupted"}, bags
    for entry in bags.values():
        if "bag" in entry["outputs"]:
            n = len(read_bag(out / entry["outputs"]["bag"]).get("/vuer/image", []))
            assert n == entry["frames"] < 300
    r = run_cmd(args)
    assert r.returncode == 0, r.stderr
    assert "2 rendered" in r.stderr, r.stderr
    for bag in (long, other):
        assert len(read_bag(out / bag.name)["/vuer/image"]) == 300
        assert len(list((out / (bag.stem + ".frames")).glob("frame_*.png"))) == 300
