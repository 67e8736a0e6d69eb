"""The viewer status event: what the viewer node tells each browser besides the scene.

A browser's side panel (web/src/panel.js) lists the displays with visibility toggles,
the TF frames, the fixed frame, the render camera and a status line. The scene tree
does not carry that, so the node sends it in one non-scene server event::

    {ts, etype: "VUER_ROS_STATUS", data: {...the fields of STATUS_FIELDS...}}

broadcast every ``STATUS_PERIOD_S`` seconds and sent to each browser right after its
INIT. It changes no scene state; a client that does not know the etype ignores it
(the Vuer client does; test/compat/test_vuer_client.py).

Which scene elements belong to which display is said by **key prefixes**: a display
(or a marker namespace) lists prefixes in ``keys``, and an element is the display's
when its key is one of them, or one of them followed by a separator
(``KEY_SEPARATORS``: ``:`` or ``#``). Names inside keys are escaped so that they hold
no separator (vuer_ros/scene/keys.py), so ``path:/plan`` owns ``path:/plan:0`` and
``path:/plan:0#line`` but not ``path:/planner:0``. Hiding an element hides its
subtree.

The fields are defined once, here (``STATUS_FIELDS`` and the tables of the nested
objects); vuer_ros/protocol/schema_gen.py writes the constants the client needs into
web/src/schema.generated.js and the tables into docs/protocol.md. :func:`status_event`
checks a status against them, so what the node sends is what the docs say.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .events import ServerEvent

STATUS_ETYPE = "VUER_ROS_STATUS"
# How often the node sends it (s); a client that hears nothing for three periods says so.
STATUS_PERIOD_S = 1.0
# What may follow a key prefix inside a key it owns.
KEY_SEPARATORS: tuple[str, ...] = (":", "#")
# Problem lines a status carries at most (the newest).
RECENT_PROBLEMS = 5


@dataclass(frozen=True)
class FieldSpec:
    """One field of the status or of an object inside it: wire name, type (as
    docs/protocol.md writes types), meaning."""

    name: str
    type: str
    doc: str


STATUS_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("time", "number", "ROS time of the scene as last sent (s); sim time with `simTime`"),
    FieldSpec("simTime", "boolean", "the node's clock is sim time (`use_sim_time`, /clock); false: wall time"),
    FieldSpec("fixedFrame", "string", "the node's fixed frame: the scene's root frame, which the "
              "published images show"),
    FieldSpec("sceneRate", "number", "messages applied to the scene per second, over the last period"),
    FieldSpec("imageRate", "number", "images of the render camera published per second (the last 2 s)"),
    FieldSpec("imageRateTarget", "number", "`render.rate`: the images per second asked for"),
    FieldSpec("problems", "integer", "bad-input causes active now (each logged once by the node)"),
    FieldSpec("recentProblems", "string[]", f"the newest problem lines, oldest first (at most "
              f"{RECENT_PROBLEMS})"),
    FieldSpec("displays", "display[]", "what the node shows, in the panel's order"),
    FieldSpec("frames", "frame[]", "every TF frame the node knows, by name"),
    FieldSpec("camera", "camera or null", "the render camera (null: none)"),
    FieldSpec("rvizView", "view", "rviz's default Orbit view (docs/rviz.md)"),
)

DISPLAY_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("id", "string", "unique among the displays and their children, the same in every "
              "status"),
    FieldSpec("type", "string", "rviz's display type (`TF`, `Marker`, `MarkerArray`, `RobotModel`, "
              "`Path`, ... docs/displays.md); `Namespace` for a marker namespace"),
    FieldSpec("name", "string", "what the panel shows: the topic, the namespace, or the type"),
    FieldSpec("topic", "string", "the topic it shows (`\"\"`: none, e.g. a URDF file)"),
    FieldSpec("messages", "integer", "messages received on the topic (0: none yet)"),
    FieldSpec("keys", "string[]", "key prefixes of the elements it draws (see above); empty: nothing "
              "to hide (yet)"),
    FieldSpec("children", "display[]", "parts shown and hidden on their own: a marker topic's "
              "namespaces"),
)

FRAME_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("name", "string", "the frame id"),
    FieldSpec("parent", "string or null", "its TF parent (null: a root)"),
    FieldSpec("key", "string or null", "key of its `tf:` Group in the scene; null while the frame "
              "is not in the scene (it cannot reach the fixed frame)"),
)

CAMERA_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("frame", "string", "the frame the camera hangs on (the fixed frame for a fixed camera)"),
    FieldSpec("key", "string or null", "key of that frame's Group; null while it is not in the scene"),
    FieldSpec("position", "[x, y, z]", "in that frame (m)"),
    FieldSpec("quaternion", "[x, y, z, w]", "in that frame, three.js convention (looks down local -Z, "
              "+Y up), as GRAB_RENDER's `camera`"),
    FieldSpec("fov", "number", "vertical field of view (degrees)"),
    FieldSpec("near", "number", "near clip distance (m)"),
    FieldSpec("far", "number", "far clip distance (m)"),
    FieldSpec("width", "integer", "image width (pixels)"),
    FieldSpec("height", "integer", "image height (pixels)"),
)

VIEW_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("position", "[x, y, z]", "the eye, in the fixed frame (m)"),
    FieldSpec("target", "[x, y, z]", "the focal point it looks at (m)"),
    FieldSpec("up", "[x, y, z]", "up in the image"),
    FieldSpec("fov", "number", "vertical field of view (degrees)"),
    FieldSpec("near", "number", "near clip distance (m)"),
    FieldSpec("far", "number", "far clip distance (m)"),
)

# object type name (as the tables write it) -> its fields; "status" is the event's data
TABLES: dict[str, tuple[FieldSpec, ...]] = {
    "status": STATUS_FIELDS, "display": DISPLAY_FIELDS, "frame": FRAME_FIELDS,
    "camera": CAMERA_FIELDS, "view": VIEW_FIELDS,
}


def owns(prefix: str, key: str) -> bool:
    """Whether the element ``key`` belongs to the display that lists ``prefix``."""
    return key == prefix or (key.startswith(prefix) and key[len(prefix)] in KEY_SEPARATORS)


def check(data: Mapping[str, Any], table: str = "status", where: str = "status") -> None:
    """ValueError naming the field when ``data`` has other fields than ``TABLES[table]``
    (and the same for the objects inside it)."""
    names = [f.name for f in TABLES[table]]
    if set(data) != set(names):
        missing, extra = sorted(set(names) - set(data)), sorted(set(data) - set(names))
        raise ValueError(f"{where}: fields differ from the {table} table (missing {missing}, "
                         f"extra {extra})")
    for spec in TABLES[table]:
        inner = spec.type.removesuffix("[]").removesuffix(" or null")
        if inner not in TABLES:
            continue
        value = data[spec.name]
        items = value if spec.type.endswith("[]") else [value]
        for i, item in enumerate(items):
            if item is not None:
                check(item, inner, f"{where}.{spec.name}" + (f"[{i}]" if spec.type.endswith("[]") else ""))


def status_event(data: Mapping[str, Any]) -> ServerEvent:
    """The status event, its fields checked against the tables."""
    check(data)
    return ServerEvent(STATUS_ETYPE, dict(data))
