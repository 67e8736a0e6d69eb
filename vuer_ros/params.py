"""The viewer node's parameters: one table, read by the node (declarations with
descriptions and ranges), by config/viewer.yaml's check and by docs/parameters.md.

ROS-free on purpose: tests and the docs generator read it without rclpy.
``python -m vuer_ros.params`` prints the markdown table of docs/parameters.md;
``python -m vuer_ros.params --write docs/parameters.md`` updates that file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Sequence

# Topics the node publishes (relative: they follow the node's namespace).
IMAGE_TOPIC = "vuer/image"
COMPRESSED_TOPIC = "vuer/image/compressed"
CAMERA_INFO_TOPIC = "vuer/camera_info"
DEPTH_TOPIC = "vuer/depth"
# A moving render camera's pose (render.target_frame) goes out with each image on TF itself.
CAMERA_TF_TOPIC = "/tf"

NODE_NAME = "vuer_viewer"
# Parameters under this prefix list displays (vuer_ros/displays.py), besides the table below.
DISPLAYS_PREFIX = "displays."
# ... and under this one render cameras (vuer_ros/cameras.py: render.cameras.<name>.<key>).
CAMERAS_PREFIX = "render.cameras."


class CameraTopics(NamedTuple):
    """The topics of one render camera: the node's own camera (``""``) publishes on
    ``vuer/image``, ...; a listed camera ``front`` on ``vuer/front/image``, ..."""

    image: str
    compressed: str
    camera_info: str
    depth: str

    @classmethod
    def of(cls, camera: str = "") -> "CameraTopics":
        if not camera:
            return cls(IMAGE_TOPIC, COMPRESSED_TOPIC, CAMERA_INFO_TOPIC, DEPTH_TOPIC)
        base = f"vuer/{camera}"
        return cls(f"{base}/image", f"{base}/image/compressed", f"{base}/camera_info",
                   f"{base}/depth")


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: name, default (its type), description, optional range.

    ``dynamic``: may change while the node runs (``ros2 param set``); the
    others are read at start (read-only).
    """

    name: str
    default: Any
    description: str
    range: tuple[float, float] | None = None   # inclusive; ints get an integer range
    dynamic: bool = False
    length: int | None = None                  # fixed length of an array parameter

    @property
    def type_name(self) -> str:
        d = self.default
        if isinstance(d, bool):
            return "bool"
        if isinstance(d, int):
            return "int"
        if isinstance(d, float):
            return "double"
        if isinstance(d, str):
            return "string"
        if isinstance(d, (list, tuple)):
            if self.name.endswith(("eye", "target")):
                return "double[]"
            return "string[]"
        raise TypeError(f"parameter {self.name}: unsupported default {d!r}")


PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("host", "127.0.0.1",
              "Interface the browser server binds to. 127.0.0.1 keeps it on this machine (no TLS, "
              "no token, unless set). Any other address (0.0.0.0: every interface) opens it to the "
              "network, and then it speaks only TLS and every request needs the token: the logged "
              "URL carries it, with a QR code to open on a headset (docs/parameters.md, \"On a "
              "robot's network\")."),
    ParamSpec("port", 8012,
              "TCP port of the browser page and its websocket. 0 picks any free port; the bound "
              "port is logged and written back to this parameter.", range=(0, 65535)),
    ParamSpec("token", "",
              "Access token every page, file, mesh and websocket request needs (8 to 128 of "
              "A-Z a-z 0-9 . _ ~ -). Empty: a random one per start off loopback, none on loopback. "
              "Set one to keep a headset's bookmark working across restarts."),
    ParamSpec("tls.cert", "",
              "PEM file of the server's TLS certificate (or chain), with tls.key: served on any "
              "host, loopback too. Empty off loopback: a self-signed certificate made once and "
              "kept in $ROS_HOME/vuer_ros/tls/ (~/.ros/vuer_ros/tls/), covering this machine's "
              "names and addresses; its SHA-256 fingerprint is logged."),
    ParamSpec("tls.key", "",
              "PEM file of tls.cert's private key (unencrypted; keep it readable by this user "
              "only)."),
    ParamSpec("fixed_frame", "map",
              "The frame everything is drawn in (rviz's Fixed Frame). The render camera's "
              "render.eye/render.target are in this frame.", dynamic=True),
    ParamSpec("marker_topics", ["/visualization_marker"],
              "visualization_msgs/Marker topics to show."),
    ParamSpec("marker_array_topics", ["/visualization_marker_array"],
              "visualization_msgs/MarkerArray topics to show."),
    ParamSpec("robot_description_topic", "/robot_description",
              "std_msgs/String topic with the robot's URDF (transient local, as "
              "robot_state_publisher publishes it); its links are drawn on their TF frames. "
              "Empty: no robot model."),
    ParamSpec("robot_description_file", "",
              "A URDF file to show instead of robot_description_topic (read at start). Relative "
              "mesh paths resolve against its folder; meshes are served from ament package "
              "shares and mesh_roots only."),
    ParamSpec("mesh_roots", [],
              "Folders whose files may be served to the browser for file:// mesh_resource URIs "
              "(besides the share folders of ament packages, which package:// and file:// "
              "reach on demand). Anything else is refused."),
    ParamSpec("max_marker_points", 1_000_000,
              "Largest points list one marker may carry; a bigger marker is refused (logged "
              "once with its ns/id) before its points are decoded.", range=(1, 100_000_000)),
    ParamSpec("grid", True, "Draw the ground grid (in the fixed frame's XY plane)."),
    ParamSpec("marker_lists", True,
              "Send the simple markers (CUBE, SPHERE, CYLINDER, pose-form ARROW, opaque) of one "
              "frame, namespace and type as one MarkerList of packed arrays, which this client "
              "draws and updates at a fraction of the cost of one element per marker (a "
              "10,000-marker array, a thousand moving markers). false: an element per marker "
              "(a browser running the Vuer client is sent each list's items as those elements "
              "either way: docs/protocol.md)."),
    ParamSpec("displays.auto", True,
              "Show every topic of a supported type that appears (in the ROS graph live, in "
              "the bag offline) with rviz's default display options, as Foxglove does. "
              "Displays listed under displays.<name> (docs/displays.md) set their own options; "
              "one listed with enabled: false keeps its topic hidden."),
    ParamSpec("render.rate", 10.0,
              "Images per second grabbed from the renderer and published (Hz). When a grab "
              "takes longer than 1/rate, images come as fast as the renderer allows.",
              range=(0.1, 120.0), dynamic=True),
    ParamSpec("scene_rate", 30.0,
              "How often scene changes (TF, markers) are sent to the browsers (Hz); at least "
              "render.rate. Each image also sends the changes right before it is grabbed.",
              range=(1.0, 120.0)),
    ParamSpec("render.width", 640, "Image width in pixels.", range=(16, 4096)),
    ParamSpec("render.height", 480, "Image height in pixels.", range=(16, 4096)),
    ParamSpec("render.fov", 45.0, "Vertical field of view of the render camera in degrees (45: rviz's default view).",
              range=(1.0, 170.0), dynamic=True),
    ParamSpec("render.near", 0.05, "Near clip distance of the render camera (m).",
              range=(0.001, 100.0)),
    ParamSpec("render.far", 100.0, "Far clip distance of the render camera (m); depth beyond "
              "it is +inf.", range=(0.01, 100000.0)),
    ParamSpec("render.camera_frame", "",
              "TF frame the render camera rides on. Empty: a fixed camera at render.eye "
              "looking at render.target (both in fixed_frame). Otherwise the camera looks "
              "along this frame's +X with +Z up (a REP 103 body frame such as camera_link), "
              "or along its +Z when render.camera_frame_is_optical is true."),
    ParamSpec("render.camera_frame_is_optical", False,
              "render.camera_frame is an optical frame (Z forward, X right, Y down), e.g. "
              "an existing camera's *_optical_frame."),
    ParamSpec("render.eye", [5.0, 5.0, 7.0711],
              "Position [x, y, z] of the fixed render camera in fixed_frame (m), used when "
              "render.camera_frame is empty. The default is rviz's default orbit view (distance "
              "10, yaw and pitch 45 degrees, focal point at the origin; docs/rviz.md).", dynamic=True, length=3),
    ParamSpec("render.target", [0.0, 0.0, 0.0],
              "Point [x, y, z] the fixed render camera looks at, in fixed_frame (m); +Z is up "
              "in the image.", dynamic=True, length=3),
    ParamSpec("render.target_frame", "",
              "A TF frame the fixed render camera follows (rviz's Orbit view Target Frame): "
              "render.eye and render.target are then offsets from that frame's origin along "
              "fixed_frame's axes, so the camera moves with the frame but does not turn with "
              "it. Its pose then goes out with each image on /tf (a child of fixed_frame). "
              "Empty: the camera stays put. Not with render.camera_frame.", dynamic=True),
    ParamSpec("render.camera_path", "",
              "A camera path file (YAML, docs/render-bag.md \"Camera paths\"): keyframes of "
              "eye, target and fov in seconds from the path's start (here the first render "
              "tick with a running ROS clock, sim time with use_sim_time; again after ROS "
              "time jumps back), smoothly interpolated, or an orbit around a frame. The "
              "camera's pose then goes out with each image on /tf. Empty: no path. Not with "
              "render.camera_frame or render.target_frame."),
    ParamSpec("render.cameras_file", "",
              "A YAML file listing render cameras by name, as render.cameras.<name>.<key> "
              "does (docs/parameters.md, \"Several cameras\"). Listed cameras replace the "
              "single camera above: each publishes on vuer/<name>/image, .../camera_info, "
              "... and has its own optical frame; one browser grabs them in turn each tick."),
    ParamSpec("render.optical_frame", "vuer_camera_optical",
              "Frame id of the published images and camera_info. The node publishes it on "
              "/tf_static: a child of fixed_frame (fixed camera) or of render.camera_frame; "
              "with render.target_frame on /tf with each image. The viewer's TF display does "
              "not draw it (nor render.camera_frame): axes at the lens would fill the image."),
    ParamSpec("render.headless", True,
              "true: run an own headless Chromium to render into. false: grab from a browser "
              "the user opened at the logged URL (rendered with the render camera at render "
              "size); a warning is logged while none is connected."),
    ParamSpec("render.depth", False,
              "Also publish vuer/depth (32FC1, metres along the optical axis, +inf where "
              "nothing was hit) while it has subscribers.", dynamic=True),
    ParamSpec("render.jpeg_quality", 90, "JPEG quality of vuer/image/compressed.",
              range=(1, 100), dynamic=True),
    ParamSpec("render.lazy", True,
              "Skip the grab on ticks when no image, compressed, depth or camera_info "
              "topic has a subscriber (the scene still reaches browsers)."),
    ParamSpec("render.grab_timeout", 10.0,
              "Seconds to wait for a grab before giving up on it (a hung renderer). After a "
              "timeout the next grab may take twice as long (up to 60 s), so a scene that "
              "renders slower than this still gets images.", range=(0.1, 60.0)),
)

BY_NAME: dict[str, ParamSpec] = {p.name: p for p in PARAMS}


def markdown_table(specs: Sequence[ParamSpec] = PARAMS) -> str:
    """The parameter table of docs/parameters.md."""
    rows = ["| parameter | type | default | range | runtime | description |",
            "|---|---|---|---|---|---|"]
    for p in specs:
        default = _format_default(p.default)
        rng = f"{_num(p.range[0])} .. {_num(p.range[1])}" if p.range else ""
        rows.append(f"| `{p.name}` | {p.type_name} | {default} | {rng} | "
                    f"{'yes' if p.dynamic else 'no'} | {p.description} |")
    return "\n".join(rows) + "\n"


def _num(v: float) -> str:
    return str(v)


def _format_default(d: Any) -> str:
    if isinstance(d, bool):
        return f"`{str(d).lower()}`"
    if isinstance(d, str):
        return f'`"{d}"`' if d else '`""`'
    if isinstance(d, (list, tuple)):
        return "`[" + ", ".join(f'"{v}"' if isinstance(v, str) else _num(v) for v in d) + "]`"
    return f"`{_num(d)}`"


def write_doc(path: str) -> None:
    """Replace the table at the end of ``path`` (from its header row) with the current one."""
    from pathlib import Path

    doc = Path(path)
    text = doc.read_text()
    start = text.index("| parameter | type |")
    doc.write_text(text[:start] + markdown_table())


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--write"] and len(sys.argv) == 3:
        write_doc(sys.argv[2])
    else:
        print(markdown_table(), end="")
