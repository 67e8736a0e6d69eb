"""A URDF robot (box, cylinder, sphere, an STL mesh written here) driven by TF
renders where the geometry predicts: SceneModel -> the real server -> the real
client in real Chromium, grabbed through a RenderCamera and compared with the
camera's pinhole projection of each visual (silhouette centroid within 2 px).

The predictions compose the TF and URDF origins with plain numpy (rpy as
Rz @ Ry @ Rx), independently of the scene model's own maths."""

from __future__ import annotations

import asyncio
import itertools
import math

import numpy as np
import pytest
from rosbags.typesys import Stores, get_typestore

from vuer_ros.protocol.events import Set
from vuer_ros.render.browser import HeadlessBrowser
from vuer_ros.render.camera import RenderCamera, quat_to_matrix
from vuer_ros.scene.mesh_resolver import MeshResolver
from vuer_ros.scene import SceneModel
from vuer_ros.server import VuerServer

from meshes import binary_stl
from pixels import convex_hull, polygon_area_centroid

CAMERA = RenderCamera.look_at([2.6, -2.2, 2.3], [0.1, 0.35, 0.25], width=640, height=480,
                              fov_y=50.0, near=0.05, far=50.0)

# TF: parent, child, xyz, yaw (rad)
TF = [("map", "base_link", (0.0, 0.0, 0.0), 0.2),
      ("base_link", "arm", (0.9, 0.0, 0.0), 0.0),
      ("base_link", "head", (0.0, 0.9, 0.3), 0.0),
      ("head", "tool", (-0.9, -0.2, 0.0), 0.5)]
ARM_MOVED = ("base_link", "arm", (1.1, 0.6, 0.1), 0.0)

# link -> (geometry, size, origin xyz, origin rpy, colour)
VISUALS = {
    "base_link": ("box", (0.6, 0.4, 0.2), (0.0, 0.0, 0.1), (0.0, 0.0, 0.3), "red"),
    "arm": ("cylinder", (0.08, 0.6), (0.0, 0.0, 0.3), (0.0, 0.0, 0.0), "green"),
    "head": ("sphere", (0.15,), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), "blue"),
    "tool": ("mesh", (0.3, 0.2, 0.25), (0.0, 0.0, 0.1), (0.3, 0.0, 0.0), "yellow"),
}


def urdf(mesh_uri: str) -> str:
    geometry = {
        "box": lambda s: f'<box size="{s[0]} {s[1]} {s[2]}"/>',
        "cylinder": lambda s: f'<cylinder radius="{s[0]}" length="{s[1]}"/>',
        "sphere": lambda s: f'<sphere radius="{s[0]}"/>',
        "mesh": lambda s: f'<mesh filename="{mesh_uri}" scale="{s[0]} {s[1]} {s[2]}"/>',
    }
    material = {  # robot-level by name, and local colours
        "red": '<material name="red"><color rgba="1 0 0 1"/></material>',
        "green": '<material name="green"><color rgba="0 1 0 1"/></material>',
        "blue": '<material name="blue"/>',
        "yellow": '<material name="yellow"><color rgba="1 1 0 1"/></material>',
    }
    links = "".join(
        f'<link name="{link}"><visual><origin xyz="{" ".join(map(str, xyz))}" '
        f'rpy="{" ".join(map(str, rpy))}"/><geometry>{geometry[kind](size)}</geometry>'
        f"{material[colour]}</visual></link>"
        for link, (kind, size, xyz, rpy, colour) in VISUALS.items())
    joints = "".join(f'<joint name="j_{c}" type="fixed"><parent link="{p}"/><child link="{c}"/></joint>'
                     for p, c, _, _ in TF[1:])
    return (f'<?xml version="1.0"?><robot name="pixels">'
            f'<material name="blue"><color rgba="0 0 1 1"/></material>{links}{joints}</robot>')


def tf_message(*links):
    """A tf2_msgs/TFMessage (rosbags' classes: the scene model reads fields by name)."""
    T = get_typestore(Stores.ROS2_JAZZY).types
    return T["tf2_msgs/msg/TFMessage"](transforms=[
        T["geometry_msgs/msg/TransformStamped"](
            header=T["std_msgs/msg/Header"](stamp=T["builtin_interfaces/msg/Time"](sec=0, nanosec=0),
                                            frame_id=p),
            child_frame_id=c,
            transform=T["geometry_msgs/msg/Transform"](
                translation=T["geometry_msgs/msg/Vector3"](x=xyz[0], y=xyz[1], z=xyz[2]),
                rotation=T["geometry_msgs/msg/Quaternion"](x=0.0, y=0.0, z=math.sin(yaw / 2),
                                                           w=math.cos(yaw / 2))))
        for p, c, xyz, yaw in links])


# -- predictions ------------------------------------------------------------------------------------
def matrix(xyz, q=None, rpy=None):
    m = np.eye(4)
    if q is not None:
        m[:3, :3] = quat_to_matrix(q)
    if rpy is not None:
        r, p, y = rpy
        rx = np.array([[1, 0, 0], [0, math.cos(r), -math.sin(r)], [0, math.sin(r), math.cos(r)]])
        ry = np.array([[math.cos(p), 0, math.sin(p)], [0, 1, 0], [-math.sin(p), 0, math.cos(p)]])
        rz = np.array([[math.cos(y), -math.sin(y), 0], [math.sin(y), math.cos(y), 0], [0, 0, 1]])
        m[:3, :3] = rz @ ry @ rx
    m[:3, 3] = xyz
    return m


def link_pose(link, tf_list):
    by_child = {c: (p, xyz, yaw) for p, c, xyz, yaw in tf_list}
    m = np.eye(4)
    while link in by_child:
        parent, xyz, yaw = by_child[link]
        m = matrix(xyz, (0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2))) @ m
        link = parent
    return m


def surface_points(kind, size):
    if kind in ("box", "mesh"):   # the STL is a unit cube scaled by `size`
        return np.array(list(itertools.product(*[(-s / 2, s / 2) for s in size])))
    if kind == "cylinder":
        r, length = size
        a = np.linspace(0, 2 * math.pi, 96, endpoint=False)
        rim = np.stack([r * np.cos(a), r * np.sin(a)], axis=1)
        return np.concatenate([np.column_stack([rim, np.full(len(a), z)]) for z in (-length / 2, length / 2)])
    (r,) = size
    lat, lon = np.meshgrid(np.linspace(-math.pi / 2, math.pi / 2, 48), np.linspace(0, 2 * math.pi, 96))
    return r * np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1).reshape(-1, 3)


def predicted(link, tf_list, camera=CAMERA):
    kind, size, xyz, rpy, _ = VISUALS[link]
    m = link_pose(link, tf_list) @ matrix(xyz, rpy=rpy)
    pts = surface_points(kind, size) @ m[:3, :3].T + m[:3, 3]
    area, centroid = polygon_area_centroid(convex_hull(camera.project(pts)))
    return area, centroid


HUE = {"red": 0, "green": 1, "blue": 2}


def mask(rgb, colour):
    c = rgb.astype(int)
    if colour == "yellow":
        return (c[..., 0] > c[..., 2] + 50) & (c[..., 1] > c[..., 2] + 50) & \
            (np.abs(c[..., 0] - c[..., 1]) < 40)
    i = HUE[colour]
    others = [c[..., j] for j in range(3) if j != i]
    return (c[..., i] > others[0] + 50) & (c[..., i] > others[1] + 50)


def measured(rgb, colour):
    v, u = np.nonzero(mask(rgb, colour))
    return float(len(u)), np.array([u.mean(), v.mean()]) if len(u) else None


def check(rgb, link, tf_list=TF):
    area, centroid = predicted(link, tf_list)
    got_area, got_centroid = measured(rgb, VISUALS[link][4])
    assert got_centroid is not None, f"{link}: its colour is not in the image"
    assert np.linalg.norm(got_centroid - centroid) <= 2.0, (link, got_centroid, centroid)
    assert got_area == pytest.approx(area, rel=0.03), (link, got_area, area)


# -- the render -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    """Grabs taken once for the module (one Chromium start)."""
    meshes = tmp_path_factory.mktemp("meshes")
    binary_stl(meshes / "tool.stl")

    async def main():
        async with VuerServer(port=0) as server:
            assert server.static.bundle_ready, "client bundle not built: run scripts/setup.sh"
            model = SceneModel("map", resolve_mesh=MeshResolver(server.static.mount, [meshes]),
                               grid=False)
            problems = model.set_robot_description(urdf((meshes / "tool.stl").as_uri()),
                                                   "/robot_description")
            assert problems == []
            model.on_tf(tf_message(*TF))
            server.broadcast(Set(model.initial_scene()))
            out = {}
            async with HeadlessBrowser(server, 640, 480) as browser:
                sess = browser.session

                async def grab():
                    for event in model.drain_events():
                        server.broadcast(event)
                    return (await sess.grab(format="rgb", width=640, height=480, camera=CAMERA)).rgb
                out["robot"] = await grab()
                model.on_tf(tf_message(ARM_MOVED))
                out["moved"] = await grab()
                out["missing_problems"] = model.set_robot_description(
                    urdf((meshes / "gone.stl").as_uri()), "/robot_description")
                out["missing"] = await grab()
            return out
    return asyncio.run(asyncio.wait_for(main(), 90))


@pytest.mark.parametrize("link", list(VISUALS))
def test_each_link_appears_where_its_tf_and_origin_put_it(frames, link):
    check(frames["robot"], link)


def test_a_tf_update_moves_the_link_and_nothing_else(frames):
    moved = [t for t in TF if t[1] != "arm"] + [ARM_MOVED]
    check(frames["moved"], "arm", moved)
    for link in ("base_link", "head", "tool"):
        check(frames["moved"], link, moved)


def test_a_missing_mesh_leaves_the_rest_of_the_robot_intact(frames):
    (problem,) = frames["missing_problems"]
    assert "gone.stl; link 'tool'" in problem and "does not exist" in problem
    rgb = frames["missing"]
    assert mask(rgb, "yellow").sum() == 0
    moved = [t for t in TF if t[1] != "arm"] + [ARM_MOVED]
    for link in ("base_link", "arm", "head"):
        check(rgb, link, moved)
