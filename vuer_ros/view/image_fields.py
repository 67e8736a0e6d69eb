"""A grabbed frame and its camera -> the field values of the messages the viewer publishes.

Written once for both edges: the live node builds rclpy messages from these
(vuer_ros/ros/messages.py), offline rendering builds rosbags messages
(vuer_ros/bag/outputs.py). A :class:`Fields` is a ROS type name and its
field values; nested messages are Fields too, arrays are numpy arrays (uint8
for ``data``, float64 for matrices). Every field is given, so a writer that
needs them all (rosbags) gets them.

Outputs (topics relative to the node's namespace, params.py; a listed camera ``front``
publishes on ``vuer/front/image``, ...: ``CameraTopics``):
- ``vuer/image``: sensor_msgs/Image, rgb8, top row first;
- ``vuer/image/compressed``: sensor_msgs/CompressedImage, JPEG, format
  ``"rgb8; jpeg compressed bgr8"`` (image_transport's string);
- ``vuer/camera_info``: sensor_msgs/CameraInfo from the camera's own K (render/camera.py);
- ``vuer/depth``: sensor_msgs/Image 32FC1, metres along the optical axis, +inf where
  nothing was hit;
- the cameras' optical frames on /tf_static: one tf2_msgs/TFMessage holding every
  camera fixed on TF (a latched topic keeps a publisher's last message only); a camera
  that moves in the fixed frame (a target_frame, a path) on /tf with each image
  (``camera_tf_parent``: the fixed frame), stamped with the image's time.
All stamped with the frame's time and the camera's optical frame.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, NamedTuple, Sequence

import numpy as np

from ..params import CAMERA_TF_TOPIC, CameraTopics
from ..render.camera import RenderCamera
from ..render.camera_spec import CameraSpec

try:
    import cv2
except ImportError:  # pragma: no cover - opencv is in requirements; PIL is the fallback
    cv2 = None  # type: ignore[assignment]

JPEG_FORMAT = "rgb8; jpeg compressed bgr8"
NS_PER_S = 1_000_000_000


@dataclass(frozen=True)
class Fields:
    """One message as field values: ``type`` like ``sensor_msgs/msg/Image``."""

    type: str
    values: dict[str, Any]


class Wants(NamedTuple):
    """Which outputs to build (the live node: those with subscribers)."""

    image: bool = True
    compressed: bool = True
    depth: bool = True
    info: bool = True

    @property
    def any(self) -> bool:
        return self.image or self.compressed or self.depth or self.info


def time_fields(stamp_ns: int) -> Fields:
    return Fields("builtin_interfaces/msg/Time",
                  {"sec": stamp_ns // NS_PER_S, "nanosec": stamp_ns % NS_PER_S})


def header(stamp_ns: int, frame_id: str) -> Fields:
    return Fields("std_msgs/msg/Header", {"stamp": time_fields(stamp_ns), "frame_id": frame_id})


def jpeg(rgb: np.ndarray, quality: int) -> bytes:
    """RGB -> JPEG bytes (OpenCV; PIL where it is missing)."""
    if cv2 is not None:
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                               [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)])
        if not ok:
            raise ValueError("JPEG encoding failed")
        return bytes(buf.tobytes())
    import io

    from PIL import Image as PilImage
    out = io.BytesIO()
    PilImage.fromarray(rgb).save(out, format="JPEG", quality=int(quality))
    return out.getvalue()


ALL_OUTPUTS = Wants()
NODE_TOPICS = CameraTopics.of()     # the node's own camera: vuer/image, ...


def image_fields(rgb: np.ndarray, depth: np.ndarray | None, camera: RenderCamera, stamp_ns: int,
                 frame_id: str, jpeg_quality: int, wants: Wants = ALL_OUTPUTS,
                 camera_tf_parent: str | None = None,
                 topics: CameraTopics = NODE_TOPICS) -> dict[str, Fields]:
    """Topic (``topics``: ``vuer/image``, ...; ``/tf`` absolute) -> the message to publish on
    it, for the outputs in ``wants``; with ``camera_tf_parent`` (the fixed frame) also the
    camera's pose on /tf, as that frame's child at the image's stamp, when any output is
    wanted."""
    head = header(stamp_ns, frame_id)
    h, w = rgb.shape[:2]
    out: dict[str, Fields] = {}
    if wants.image:
        out[topics.image] = Fields("sensor_msgs/msg/Image", {
            "header": head, "height": h, "width": w, "encoding": "rgb8", "is_bigendian": 0,
            "step": w * 3, "data": np.ascontiguousarray(rgb).reshape(-1)})
    if wants.compressed:
        out[topics.compressed] = Fields("sensor_msgs/msg/CompressedImage", {
            "header": head, "format": JPEG_FORMAT,
            "data": np.frombuffer(jpeg(rgb, jpeg_quality), dtype=np.uint8)})
    if wants.depth and depth is not None:
        d = np.ascontiguousarray(depth, dtype="=f4")
        out[topics.depth] = Fields("sensor_msgs/msg/Image", {
            "header": head, "height": h, "width": w, "encoding": "32FC1",
            "is_bigendian": int(sys.byteorder == "big"), "step": w * 4,
            "data": d.view(np.uint8).reshape(-1)})
    if wants.info:
        info = camera.camera_info_fields()
        out[topics.camera_info] = Fields("sensor_msgs/msg/CameraInfo", {
            "header": head, "height": info["height"], "width": info["width"],
            "distortion_model": info["distortion_model"],
            "d": np.asarray(info["d"], dtype=np.float64), "k": np.asarray(info["k"], dtype=np.float64),
            "r": np.asarray(info["r"], dtype=np.float64), "p": np.asarray(info["p"], dtype=np.float64),
            "binning_x": info["binning_x"], "binning_y": info["binning_y"],
            "roi": Fields("sensor_msgs/msg/RegionOfInterest", {
                "x_offset": 0, "y_offset": 0, "height": 0, "width": 0, "do_rectify": False})})
    if camera_tf_parent is not None and wants.any:
        out[CAMERA_TF_TOPIC] = camera_tf_fields(stamp_ns, camera_tf_parent, frame_id,
                                                camera.position.tolist(), camera.orientation.tolist())
    return out


def camera_tf_fields(stamp_ns: int, parent: str, child: str, xyz: Sequence[float],
                     q: Sequence[float]) -> Fields:
    """The render camera's optical frame as a TFMessage (for /tf_static, or /tf)."""
    return cameras_tf_fields(stamp_ns, [(parent, child, xyz, q)])


def cameras_tf_fields(stamp_ns: int,
                      mounts: Sequence[tuple[str, str, Sequence[float], Sequence[float]]]) -> Fields:
    """Optical frames ``(parent, child, xyz, q xyzw)`` as one TFMessage."""
    return Fields("tf2_msgs/msg/TFMessage", {"transforms": [Fields(
        "geometry_msgs/msg/TransformStamped", {
            "header": header(stamp_ns, parent), "child_frame_id": child,
            "transform": Fields("geometry_msgs/msg/Transform", {
                "translation": Fields("geometry_msgs/msg/Vector3", {
                    "x": float(xyz[0]), "y": float(xyz[1]), "z": float(xyz[2])}),
                "rotation": Fields("geometry_msgs/msg/Quaternion", {
                    "x": float(q[0]), "y": float(q[1]), "z": float(q[2]), "w": float(q[3])})})})
        for parent, child, xyz, q in mounts]})


def static_cameras_tf(stamp_ns: int, cameras: Sequence[CameraSpec], fixed_frame: str) -> Fields | None:
    """The optical frames of ``cameras`` fixed on TF (their ``camera_mount``), as the one
    message for /tf_static; None when every camera moves (its pose goes with its images)."""
    mounts = [(m[0], spec.optical_frame, m[1], m[2]) for spec in cameras
              if (m := spec.camera_mount(fixed_frame)) is not None]
    return cameras_tf_fields(stamp_ns, mounts) if mounts else None
