"""A bag whose first /tf_static comes after the first tick renders into an output bag
with one /tf_static connection holding the render camera's frame and the input's."""

from __future__ import annotations

from rosbags.highlevel import AnyReader

from vuer_ros.bag import RenderOptions, render_bag
from vuer_ros.bag.synthetic import T0_NS, MessageFactory, typestore, write_bag


def test_late_static_tf_is_copied_beside_the_camera_frame(tmp_path):
    store = typestore()
    m = MessageFactory(store)
    messages = [(T0_NS + k * 100_000_000, "/tf", m.tf_message(
        m.tf(T0_NS + k * 100_000_000, "world", "base", (0.1 * k, 0.0, 0.0)))) for k in range(10)]
    messages.insert(5, (T0_NS + 450_000_000, "/tf_static",
                        m.tf_message(m.tf(T0_NS + 450_000_000, "base", "lidar", (0.0, 0.0, 0.5)))))
    bag = write_bag(tmp_path / "in.mcap", messages, store)
    out = tmp_path / "out.mcap"
    summary = render_bag(bag, out, options=RenderOptions.create(fixed_frame="world", width=64,
                                                                  height=48, rate=10.0))
    assert summary.frames == 9
    with AnyReader([out]) as reader:
        conns = [c for c in reader.connections if c.topic == "/tf_static"]
        assert len(conns) == 1
        children = [t.child_frame_id for c, _, raw in reader.messages(connections=conns)
                    for t in reader.deserialize(raw, c.msgtype).transforms]
    assert children == ["vuer_camera_optical", "lidar"]
