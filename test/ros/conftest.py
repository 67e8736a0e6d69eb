"""Fixtures for the node tests: one real viewer node (subprocess, headless
Chromium) and one rclpy client per test module, on a private ROS_DOMAIN_ID."""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ros_helpers import RosClient, ViewerProcess, binary_stl, process_alive, ros_env  # noqa: E402

os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")

# The camera every geometry test looks through: oblique, so the full pinhole model matters.
CAMERA_PARAMS: dict[str, Any] = {
    "render.width": 400, "render.height": 300, "render.fov": 50.0,
    "render.eye": [1.0, -2.0, 4.0], "render.target": [0.0, 0.0, 0.0],
}


class NodeUnderTest:
    def __init__(self, viewer: ViewerProcess, client: RosClient, env: dict[str, str],
                 mesh_dir: Path) -> None:
        self.viewer, self.client, self.env, self.mesh_dir = viewer, client, env, mesh_dir


def start_node(tmp: Path, params: dict[str, Any] | None = None,
               image_topics: tuple[str, ...] = ("/vuer/image",)) -> NodeUnderTest:
    """A viewer with the geometry camera, a uniform background (no grid) and a mesh
    root holding a 1 m STL cube; a fake ament package ``vuer_test_meshes`` too."""
    mesh_dir = tmp / "meshes"
    mesh_dir.mkdir(parents=True, exist_ok=True)
    binary_stl(mesh_dir / "cube.stl")
    prefix = tmp / "prefix"
    share = prefix / "share"
    (share / "ament_index" / "resource_index" / "packages").mkdir(parents=True, exist_ok=True)
    (share / "ament_index" / "resource_index" / "packages" / "vuer_test_meshes").write_text("")
    (share / "vuer_test_meshes" / "meshes").mkdir(parents=True, exist_ok=True)
    binary_stl(share / "vuer_test_meshes" / "meshes" / "cube.stl")
    domain = random.randint(1, 101)
    env = ros_env(tmp / "ros_log", domain)
    env["AMENT_PREFIX_PATH"] = str(prefix) + os.pathsep + env["AMENT_PREFIX_PATH"]
    all_params: dict[str, Any] = {"port": 0, "grid": False, "fixed_frame": "map",
                                  "render.rate": 10.0, "mesh_roots": [str(mesh_dir)],
                                  **CAMERA_PARAMS, **(params or {})}
    viewer = ViewerProcess(env, all_params)
    try:
        viewer.wait_started()
        client = RosClient(domain, image_topics=image_topics)
    except BaseException:
        viewer.stop()
        raise
    return NodeUnderTest(viewer, client, env, mesh_dir)


def stop_node(node: NodeUnderTest) -> None:
    children = node.viewer.children()
    node.client.close()
    rc = node.viewer.stop()
    assert rc == 0, f"viewer exit code {rc}; log tail:\n{node.viewer.tail()}"
    left = [pid for pid in children if process_alive(pid)]
    assert not left, f"processes left behind by the viewer: {left}"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[NodeUnderTest]:
    params = getattr(request.module, "NODE_PARAMS", {})
    topics = getattr(request.module, "IMAGE_TOPICS", ("/vuer/image",))
    n = start_node(tmp_path_factory.mktemp("viewer"), params, topics)
    try:
        yield n
    finally:
        stop_node(n)
