"""Fixtures for the node tests: one real viewer node (subprocess, headless
Chromium) and one rclpy client per test module, on a private ROS_DOMAIN_ID."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ros_helpers import NodeUnderTest, start_node, stop_node  # noqa: E402,F401

os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")

@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[NodeUnderTest]:
    params = getattr(request.module, "NODE_PARAMS", {})
    topics = getattr(request.module, "IMAGE_TOPICS", ("/vuer/image",))
    n = start_node(tmp_path_factory.mktemp("viewer"), params, topics)
    try:
        yield n
    finally:
        stop_node(n)
