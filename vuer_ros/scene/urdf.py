"""URDF robot descriptions -> plain data: links, their visuals, resolved colours.

The URDF itself is parsed by yourdfpy (pinned in requirements.txt), loaded with
``load_meshes=False`` and ``build_scene_graph=False``: it reads the XML into
dataclasses and never opens a mesh or computes kinematics (TF does that here).
The XML is checked with lxml first, so a broken description is reported with
its line number (yourdfpy would try to "recover" it), and an unexpanded xacro
file or an SDF is named as such.

On top of the parser, this module does what rviz's RobotModel display gets
from urdfdom (the behaviour to match):

- materials: ``<material name>`` children of ``<robot>`` are global. A visual's
  material with a name that is global uses the global one (even when it also
  has a colour, as urdfdom does); otherwise its own colour/texture, which then
  becomes global under its name for the links after it. A visual without a
  material takes the link's first visual's material (rviz's
  ``RobotLink::getMaterialForLink``); with none at all it is drawn in rviz's
  default red (robot_model.py).
- geometry: box ``size``, sphere ``radius``, cylinder ``radius``/``length``
  (axis local Z), mesh ``filename`` with ``scale`` (one or three numbers),
  each at its visual's ``<origin xyz rpy>`` in the link frame.
- a mesh ``filename`` without a scheme is relative to the URDF file's folder
  (``base_dir``) and becomes a ``file://`` URI; from a topic there is no folder,
  and such a mesh is reported when the robot is built.

Where urdfdom would refuse the whole robot for a local fault (a name-only
material that is not defined, a duplicate link, a visual without geometry), this
keeps the rest and returns a warning, so one bad visual does not hide the robot.

Pure and thread-safe: no scene, no server, no files besides ``read_urdf_file``.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import UrdfError
from .transform import IDENTITY, Transform, Vec3, quat_from_matrix

Rgba = tuple[float, float, float, float]

# XML namespaces of xacro (both spellings are in use)
_XACRO_NAMESPACES = ("http://www.ros.org/wiki/xacro", "http://ros.org/wiki/xacro")
# Largest description accepted (a URDF with embedded meshes is still far below).
MAX_URDF_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class UrdfMaterial:
    """A resolved URDF material: ``rgba`` 0..1 (None when it has only a texture)."""

    name: str | None
    rgba: Rgba | None
    texture: str | None = None


@dataclass(frozen=True)
class UrdfVisual:
    """One ``<visual>`` of a link, in the link frame.

    ``kind`` is ``box``, ``sphere``, ``cylinder`` or ``mesh``; ``size`` is what
    the rviz shape is scaled by: box edges, sphere diameters, cylinder
    (diameter, diameter, length), mesh scale.
    """

    link: str
    index: int                       # position among the link's <visual> elements
    kind: str
    size: Vec3
    origin: Transform = IDENTITY
    material: UrdfMaterial | None = None
    mesh_uri: str | None = None      # the URI to load (relative names resolved against base_dir)
    filename: str | None = None      # the mesh filename as written in the URDF
    name: str | None = None


@dataclass(frozen=True)
class UrdfLink:
    name: str
    visuals: tuple[UrdfVisual, ...]


@dataclass(frozen=True)
class RobotDescription:
    """A parsed URDF: what the scene needs to draw it, and what was wrong in it."""

    name: str
    source: str                             # "/robot_description", a file path, ...
    links: tuple[UrdfLink, ...]
    warnings: tuple[tuple[str, str], ...]   # (kind, message), messages name the source
    digest: str                             # of the text and base_dir: equal = same robot
    base_dir: str | None = None

    @property
    def link_names(self) -> list[str]:
        return [link.name for link in self.links]

    @property
    def visuals(self) -> list[UrdfVisual]:
        return [v for link in self.links for v in link.visuals]

    def label(self) -> str:
        """``robot 'name' (source)``: how messages name this robot."""
        return f"robot '{self.name}' ({self.source})"


def read_urdf(text: str | bytes, source: str = "robot_description",
              base_dir: str | Path | None = None) -> RobotDescription:
    """Parse a URDF; raise :class:`UrdfError` (message starts with ``source``)
    when it is not one. ``base_dir``: the folder relative mesh names are in."""
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    if not data.strip():
        raise UrdfError(f"{source}: the robot description is empty")
    if len(data) > MAX_URDF_BYTES:
        raise UrdfError(f"{source}: the robot description is {len(data)} bytes, more than the "
                        f"{MAX_URDF_BYTES} accepted")
    _check_xml(data, source)
    import yourdfpy  # lazily: it imports trimesh (about 0.6 s), needed only once a robot arrives

    try:
        urdf = yourdfpy.URDF.load(io.BytesIO(data), build_scene_graph=False,
                                  build_collision_scene_graph=False, load_meshes=False,
                                  load_collision_meshes=False)
    except Exception as e:  # the parser raises KeyError/ValueError/TypeError on bad URDF
        raise UrdfError(f"{source}: not a valid URDF ({_describe(e)})") from None
    robot = urdf.robot
    digest = hashlib.sha1(data + b"\0" + str(base_dir or "").encode()).hexdigest()
    return _build(robot, source, str(base_dir) if base_dir is not None else None, digest)


def read_urdf_file(path: str | Path) -> RobotDescription:
    """Read and parse a URDF file; relative mesh names resolve against its folder."""
    p = Path(path).expanduser()
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise UrdfError(f"{p}: no such URDF file") from None
    except OSError as e:
        raise UrdfError(f"{p}: cannot read the URDF file ({e.strerror or e})") from None
    return read_urdf(data, source=str(p), base_dir=p.resolve().parent)


# -- checks before the parser ------------------------------------------------------------------
def _check_xml(data: bytes, source: str) -> None:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        raise UrdfError(f"{source}: not well-formed XML (line {e.lineno}: {e.msg})") from None
    tag = etree.QName(root).localname if isinstance(root.tag, str) else str(root.tag)
    if tag != "robot":
        hint = " (SDF is not supported; convert it to URDF)" if tag == "sdf" else ""
        raise UrdfError(f"{source}: the root element is <{tag}>, not <robot>: not a URDF{hint}")
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.startswith("{") and \
                el.tag[1:].split("}", 1)[0] in _XACRO_NAMESPACES:
            raise UrdfError(f"{source}: this is an unexpanded xacro file (<xacro:"
                            f"{etree.QName(el).localname}> on line {el.sourceline}); run xacro on it "
                            "and use its output")
    if not root.get("name"):
        raise UrdfError(f"{source}: <robot> has no name attribute")


def _describe(e: Exception) -> str:
    if isinstance(e, KeyError):
        return f"an element lacks its required attribute {e}"
    if isinstance(e, TypeError) and "NoneType" in str(e):
        return "an element lacks a required child (a <visual> or <collision> without <geometry>?)"
    return f"{type(e).__name__}: {e}"


# -- from the parser's dataclasses to ours -------------------------------------------------------
def _floats(values: Any) -> tuple[float, ...] | None:
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        return None
    return out if all(math.isfinite(v) for v in out) else None


def _material(m: Any) -> UrdfMaterial | None:
    """A parsed material with a colour or a texture, else None (name only)."""
    rgba: Rgba | None = None
    if m.color is not None:
        c = _floats(m.color.rgba)
        if c is not None and len(c) == 4:
            rgba = (c[0], c[1], c[2], c[3])
    texture = m.texture.filename if m.texture is not None and m.texture.filename else None
    if rgba is None and texture is None:
        return None
    return UrdfMaterial(m.name or None, rgba, texture)


def _origin(matrix: Any) -> Transform | None:
    if matrix is None:
        return IDENTITY
    rows = [_floats(row) for row in matrix[:3]]
    if any(r is None or len(r) != 4 for r in rows):
        return None
    t = (rows[0][3], rows[1][3], rows[2][3])  # type: ignore[index]
    return Transform(t, quat_from_matrix(matrix))


def _mesh_uri(filename: str, base_dir: str | None) -> str:
    if urlsplit(filename).scheme:
        return filename
    if base_dir is not None:
        return (Path(base_dir) / filename).resolve().as_uri()
    return filename


def _build(robot: Any, source: str, base_dir: str | None, digest: str) -> RobotDescription:
    warnings: list[tuple[str, str]] = []

    def warn(kind: str, text: str) -> None:
        warnings.append((kind, f"robot '{robot.name}' ({source}): {text}"))

    materials: dict[str, UrdfMaterial] = {}
    for m in robot.materials:
        resolved = _material(m)
        if not m.name:
            warn("material", "a robot-level <material> has no name; ignored")
        elif resolved is None:
            warn("material", f"robot-level material '{m.name}' has no usable <color rgba> or "
                             "<texture>; ignored")
        elif m.name in materials:
            warn("material", f"material '{m.name}' is defined twice at robot level; the first "
                             "definition is used")
        else:
            materials[m.name] = resolved

    links: list[UrdfLink] = []
    seen: set[str] = set()
    for link in robot.links:
        if link.name in seen:
            warn("link", f"link '{link.name}' is defined twice; the second definition is ignored")
            continue
        seen.add(link.name)
        visuals: list[UrdfVisual] = []
        first_material: UrdfMaterial | None = None
        for index, v in enumerate(link.visuals):
            where = f"link '{link.name}' visual {index}"
            material = None
            if v.material is not None:
                name = v.material.name
                own = _material(v.material)
                if name and name in materials:
                    material = materials[name]
                elif own is not None:
                    material = own
                    if name:
                        materials[name] = own
                elif name:
                    warn("material", f"{where}: material '{name}' is not defined (at robot level "
                                     "or in an earlier link); drawn in the default colour")
            if index == 0:
                first_material = material
            elif material is None:
                material = first_material   # rviz: the link's first visual's material
            origin = _origin(v.origin)
            if origin is None:
                warn("origin", f"{where}: <origin> is not finite; visual skipped")
                continue
            visual = _visual(v, link.name, index, origin, material, base_dir, warn, where)
            if visual is not None:
                visuals.append(visual)
        links.append(UrdfLink(link.name, tuple(visuals)))
    return RobotDescription(str(robot.name), source, tuple(links), tuple(warnings), digest,
                            base_dir)


def _visual(v: Any, link: str, index: int, origin: Transform, material: UrdfMaterial | None,
            base_dir: str | None, warn: Any, where: str) -> UrdfVisual | None:
    g = v.geometry
    common = dict(link=link, index=index, origin=origin, material=material, name=v.name)
    if g is None:
        warn("geometry", f"{where}: no <geometry>; visual skipped")
        return None
    if g.box is not None:
        size = _floats(g.box.size)
        if size is None or len(size) != 3:
            warn("geometry", f"{where}: <box size> needs 3 finite numbers; visual skipped")
            return None
        return UrdfVisual(kind="box", size=(size[0], size[1], size[2]), **common)
    if g.sphere is not None:
        r = _floats([g.sphere.radius])
        if r is None:
            warn("geometry", f"{where}: <sphere radius> is not finite; visual skipped")
            return None
        d = 2.0 * r[0]
        return UrdfVisual(kind="sphere", size=(d, d, d), **common)
    if g.cylinder is not None:
        rl = _floats([g.cylinder.radius, g.cylinder.length])
        if rl is None:
            warn("geometry", f"{where}: <cylinder radius length> are not finite; visual skipped")
            return None
        d = 2.0 * rl[0]
        return UrdfVisual(kind="cylinder", size=(d, d, rl[1]), **common)
    if g.mesh is not None:
        filename = (g.mesh.filename or "").strip()
        if not filename:
            warn("geometry", f"{where}: <mesh> has no filename; visual skipped")
            return None
        scale = g.mesh.scale
        s = _floats([scale] if isinstance(scale, (int, float)) else
                    (scale if scale is not None else (1.0, 1.0, 1.0)))
        if s is not None and len(s) == 1:
            s = (s[0], s[0], s[0])
        if s is None or len(s) != 3:
            warn("geometry", f"{where}: <mesh scale> needs 3 finite numbers; visual skipped")
            return None
        return UrdfVisual(kind="mesh", size=(s[0], s[1], s[2]),
                          mesh_uri=_mesh_uri(filename, base_dir), filename=filename, **common)
    warn("geometry", f"{where}: <geometry> has none of box, sphere, cylinder, mesh; visual skipped")
    return None
