"""The robot model in bag renders: the URDF from the bag's /robot_description or
from --urdf, its links following the bag's TF, where the pinhole model puts them."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from vuer_ros.bag import RenderOptions, Renderer, render_bag_async
from vuer_ros.bag.errors import RobotModelError
from vuer_ros.bag.synthetic import T0_NS, MessageFactory, typestore, write_bag

from bag_helpers import box_corners, camera_from_output, centroid, image_array, predicted_centroid, read_bag, red_mask

W, H = 160, 120
BOX = (0.3, 0.3, 0.3)
URDF = f"""<?xml version="1.0"?>
<robot name="cart">
  <material name="red"><color rgba="1 0 0 1"/></material>
  <link name="base"/>
  <link name="cart">
    <visual><origin xyz="0 0 0.15"/><geometry><box size="{' '.join(map(str, BOX))}"/></geometry>
      <material name="red"/></visual>
  </link>
  <joint name="slide" type="prismatic"><parent link="base"/><child link="cart"/>
    <axis xyz="1 0 0"/><limit lower="-2" upper="2" effort="1" velocity="1"/></joint>
</robot>"""


def cart_x(k: int) -> float:
    return -0.6 + 0.1 * k


def robot_bag(path, with_description: bool):
    store = typestore()
    m = MessageFactory(store)
    msgs = []
    if with_description:
        msgs.append((T0_NS, "/robot_description", store.types["std_msgs/msg/String"](data=URDF)))
    for k in range(11):  # the cart slides along x, one TF per 0.1 s
        t = T0_NS + k * 100_000_000
        msgs.append((t, "/tf", m.tf_message(m.tf(t, "world", "base", (0, 0, 0)),
                                            m.tf(t, "base", "cart", (cart_x(k), 0, 0)))))
    return write_bag(path, msgs, store, storage="mcap",
                     types={"/robot_description": "std_msgs/msg/String"})


def options(**kw):
    # no TF display: its red X axes would be in the red mask
    return RenderOptions.create(params={"displays.tf.enabled": False}, fixed_frame="world",
                                eye=(0.0, -3.0, 1.5), target=(0.0, 0.0, 0.15),
                                width=W, height=H, fov=60.0, rate=10.0, **kw)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("bag-robot")
    urdf_file = root / "cart.urdf"
    urdf_file.write_text(URDF)

    async def main():
        async with Renderer(W, H) as renderer:
            described = robot_bag(root / "described.mcap", True)
            bare = robot_bag(root / "bare.mcap", False)
            await render_bag_async(described, root / "a.mcap", options=options(), renderer=renderer)
            await render_bag_async(bare, root / "b.mcap", options=options(urdf=str(urdf_file)),
                                   renderer=renderer)
            await render_bag_async(bare, root / "c.mcap", options=options(), renderer=renderer)
            with pytest.raises(RobotModelError, match="nowhere.urdf"):
                await render_bag_async(bare, root / "d.mcap", renderer=renderer,
                                       options=options(urdf=str(root / "nowhere.urdf")))
        return {name: read_bag(root / f"{name}.mcap") for name in "abc"}

    return asyncio.run(asyncio.wait_for(main(), 120))


@pytest.mark.parametrize("name", ["a", "b"])  # a: /robot_description in the bag; b: --urdf
def test_robot_link_follows_tf_where_the_pinhole_model_puts_it(outputs, name):
    bag = outputs[name]
    camera = camera_from_output(bag)
    images = bag["/vuer/image"]
    assert len(images) == 10
    for k in (0, 5, 9):
        rgb = image_array(images[k][1])
        want = predicted_centroid(camera, box_corners((cart_x(k), 0, 0.15), BOX))
        assert np.linalg.norm(centroid(red_mask(rgb)) - want) <= 2.0, (name, k)


def test_without_a_description_there_is_no_robot(outputs):
    rgb = image_array(outputs["c"]["/vuer/image"][5][1])
    assert not red_mask(rgb).any()
