"""visualization_msgs/Marker -> a validated MarkerSpec with its geometry elements.

``read_marker`` reads one Marker (by field name: rclpy or rosbags) whose
action is ADD/MODIFY, checks it the way rviz2 does (plus a size limit), and
returns a ``MarkerSpec``: the numbers the scene model needs (key, frame,
stamp, pose, lifetime) and the geometry children for the marker's Group.
A marker that cannot be shown raises ``MarkerError(kind, message)``; the
message starts with the marker's key, e.g.
``marker ns=arm id=3: colors has 5 entries for 4 points``. Fixable input
(zero or non-unit quaternion) comes back as ``warnings``.

Scale semantics per type: docs in ``marker_geometry.py`` and docs/markers.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..protocol.elements import Element
from . import embedded as emb
from . import marker_geometry as geo
from .errors import MarkerError
from .frame_id import frame_id
from .keys import marker_key
from .msg_fields import byte_string, colors_array, duration_ns, points_array, stamp_ns, uvs_array
from .transform import Transform

# Marker.type
ARROW, CUBE, SPHERE, CYLINDER, LINE_STRIP, LINE_LIST, CUBE_LIST, SPHERE_LIST, POINTS, \
    TEXT_VIEW_FACING, MESH_RESOURCE, TRIANGLE_LIST, ARROW_STRIP = range(13)
TYPE_NAMES = ("ARROW", "CUBE", "SPHERE", "CYLINDER", "LINE_STRIP", "LINE_LIST", "CUBE_LIST",
              "SPHERE_LIST", "POINTS", "TEXT_VIEW_FACING", "MESH_RESOURCE", "TRIANGLE_LIST",
              "ARROW_STRIP")
# Marker.action (ROS 2: MODIFY == ADD == 0; 1 is unused)
ADD, DELETE, DELETEALL = 0, 2, 3

# The most points one marker may carry. Checked on len(points) before any array
# is built, so a 10-million-point marker is refused in microseconds.
MAX_MARKER_POINTS = 1_000_000
# ARROW_STRIP draws two elements per segment, so it has its own, lower limit.
MAX_ARROW_STRIP_POINTS = 10_000
# |q| further than this from 1 is normalised with a warning.
QUATERNION_TOLERANCE = 1e-3
# rviz2 (MarkerCommon::configureMarker) only expires markers with a lifetime above 100 us.
MIN_LIFETIME_NS = 100_000

USES_POINTS = frozenset({ARROW, LINE_STRIP, LINE_LIST, CUBE_LIST, SPHERE_LIST, POINTS,
                         TRIANGLE_LIST, ARROW_STRIP})
USES_COLORS = frozenset({LINE_STRIP, LINE_LIST, CUBE_LIST, SPHERE_LIST, POINTS, TRIANGLE_LIST})


class MeshResolver(Protocol):
    """Where the browser loads a marker's files from (scene/mesh_resolver.py's MeshResolver)."""

    def __call__(self, uri: str) -> str:
        """A mesh_resource or texture_resource URI -> URL; raises (any exception) when it cannot."""

    def embed(self, data: bytes, suffix: str, owner: object) -> str:
        """Bytes carried in the message -> the URL they are served at while ``owner`` lives."""


@dataclass(slots=True)
class MarkerSpec:
    """One validated ADD/MODIFY marker."""

    ns: str
    id: int
    type: int
    key: str                 # element key, keys.marker_key(ns, id)
    frame_id: str            # frame_id.py's rule applied; '' means the fixed frame
    stamp_ns: int
    frame_locked: bool
    pose: Transform          # unit quaternion
    lifetime_ns: int         # 0: forever
    children: list[Element]  # geometry, in the marker's pose frame
    visible: bool
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (kind, message)
    # what the geometry was built from (type, scale, color, text, mesh; points and
    # colors arrays): a re-sent marker whose inputs are equal reuses ``children``
    geom: tuple = ()
    points: np.ndarray | None = None
    colors: np.ndarray | None = None
    uvs: np.ndarray | None = None
    # a MarkerList item (marker_list.py): ``children`` is empty, ``geom`` is
    # (type, scale, color), which is all that draws it
    listed: bool = False


def same_elements(a: list[Element], b: list[Element]) -> bool:
    """Whether two geometry lists would go on the wire identically (tags, keys,
    props, packed arrays, children): a re-sent, unchanged marker emits nothing."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x is y:
            continue
        if x.tag != y.tag or x.key != y.key or x.props.keys() != y.props.keys():
            return False
        for name, v in x.props.items():
            w = y.props[name]
            if isinstance(v, np.ndarray) or isinstance(w, np.ndarray):
                if not (isinstance(v, np.ndarray) and isinstance(w, np.ndarray)
                        and v.shape == w.shape and v.dtype == w.dtype and np.array_equal(v, w)):
                    return False
            elif v != w:
                return False
        if not same_elements(x.children, y.children):  # type: ignore[arg-type]
            return False
    return True


def marker_label(ns: str, marker_id: int) -> str:
    """``marker ns=arm id=3``: how problems name a marker (odd namespaces quoted)."""
    shown = ns if ns and ns.isprintable() and " " not in ns and "'" not in ns else repr(ns)
    return f"marker ns={shown} id={marker_id}"


def _error(ns: str, mid: int, kind: str, text: str) -> MarkerError:
    return MarkerError(kind, f"{marker_label(ns, mid)}: {text}")


def _same_array(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b)


def read_marker(msg: Any, resolve_mesh: MeshResolver | None = None,
                max_points: int = MAX_MARKER_POINTS, prev: MarkerSpec | None = None,
                lists: bool = False) -> MarkerSpec:
    """Validate an ADD/MODIFY marker and build its geometry; raise MarkerError.

    ``prev``: the version of this marker shown now. When the new one's geometry
    inputs (type, scale, color, points, colors, text, mesh) equal its, its
    ``children`` (the same list object) are reused instead of built: a marker
    that only moved costs its pose, and the scene model sees at once (by
    identity) that only the pose changed. ``lists``: a marker that can be a MarkerList
    item (marker_geometry.listable) comes back ``listed``, without elements."""
    ns = str(msg.ns)
    mid = int(msg.id)
    mtype = int(msg.type)

    if not 0 <= mtype <= ARROW_STRIP:
        raise _error(ns, mid, "type", f"unknown type {mtype} (known: 0..12, ARROW..ARROW_STRIP)")

    # float64 fields arrive as Python floats (rclpy and rosbags alike): read as they are
    pose = msg.pose
    p, o = pose.position, pose.orientation
    px, py, pz = p.x, p.y, p.z
    qx, qy, qz, qw = o.x, o.y, o.z, o.w
    s, c = msg.scale, msg.color
    scale = (s.x, s.y, s.z)
    color = (c.r, c.g, c.b, c.a)
    if not math.isfinite(px + py + pz + qx + qy + qz + qw + scale[0] + scale[1] + scale[2]
                         + color[0] + color[1] + color[2] + color[3]):
        for name, vals in (("pose", (px, py, pz, qx, qy, qz, qw)), ("scale", scale),
                           ("color", color)):
            if not all(math.isfinite(v) for v in vals):
                raise _error(ns, mid, "nan", f"{name} has a non-finite value {tuple(vals)}")

    warnings: list[tuple[str, str]] = []
    n2 = qx * qx + qy * qy + qz * qz + qw * qw
    if n2 == 0.0:
        qx, qy, qz, qw = 0.0, 0.0, 0.0, 1.0
        warnings.append(("quaternion", f"{marker_label(ns, mid)}: orientation is all zeros; "
                         "using the identity"))
    elif abs(math.sqrt(n2) - 1.0) > QUATERNION_TOLERANCE:
        n = math.sqrt(n2)
        warnings.append(("quaternion", f"{marker_label(ns, mid)}: orientation has length {n:.6g}, "
                         "not 1; normalised"))
        qx, qy, qz, qw = qx / n, qy / n, qz / n, qw / n

    key = marker_key(ns, mid)
    mat = geo.material(color)
    visible = color[3] > 0.0
    points: np.ndarray | None = None
    colors: np.ndarray | None = None

    if mtype in USES_POINTS:
        n = len(msg.points)
        if n > max_points:
            raise _error(ns, mid, "too_many_points", f"{TYPE_NAMES[mtype]} has {n} points, more than the "
                       f"limit of {max_points} (MAX_MARKER_POINTS); split it into several markers")
        if mtype == ARROW and n == 1:
            raise _error(ns, mid, "points", "ARROW has 1 point; a point-to-point arrow needs exactly 2")
        if mtype == ARROW_STRIP:
            if n < 2:
                raise _error(ns, mid, "points", f"ARROW_STRIP has {n} points; it needs at least 2")
            if n > MAX_ARROW_STRIP_POINTS:
                raise _error(ns, mid, "too_many_points", f"ARROW_STRIP has {n} points, more than the limit "
                           f"of {MAX_ARROW_STRIP_POINTS} (MAX_ARROW_STRIP_POINTS)")
        if mtype == LINE_LIST and n % 2:
            raise _error(ns, mid, "points", f"LINE_LIST has an odd number of points ({n})")
        if mtype == TRIANGLE_LIST and (n == 0 or n % 3):
            raise _error(ns, mid, "points",
                         f"TRIANGLE_LIST has {n} points; it needs a non-zero multiple of 3")
        if mtype in USES_COLORS:
            nc = len(msg.colors)
            per_face = mtype == TRIANGLE_LIST and nc * 3 == n
            if nc and nc != n and not per_face:
                expected = f"{n} (one per point) or {n // 3} (one per triangle)" \
                    if mtype == TRIANGLE_LIST else f"{n} (one per point) or 0"
                raise _error(ns, mid, "colors",
                             f"colors has {nc} entries for {n} points; expected {expected}")
        if not (mtype == ARROW and n != 2):
            points = points_array(msg.points)
            if not np.isfinite(points).all():
                bad = int(np.flatnonzero(~np.isfinite(points).all(axis=1))[0])
                raise _error(ns, mid, "nan", f"points[{bad}] has a non-finite value {tuple(points[bad])}")
        if mtype in USES_COLORS and len(msg.colors):
            colors = colors_array(msg.colors)
            if not np.isfinite(colors).all():
                bad = int(np.flatnonzero(~np.isfinite(colors).all(axis=1))[0])
                raise _error(ns, mid, "nan", f"colors[{bad}] has a non-finite value {tuple(colors[bad])}")

    texture: _Texture | None = None
    mesh_file = ("", b"")
    if mtype == TEXT_VIEW_FACING:
        geom: tuple = (mtype, scale, color, str(msg.text))
    elif mtype == MESH_RESOURCE:
        if not str(msg.mesh_resource):
            mesh_file = _mesh_file(msg, ns, mid, prev.geom[-1] if prev is not None and prev.geom else b"")
        geom = (mtype, scale, color, str(msg.mesh_resource), bool(msg.mesh_use_embedded_materials),
                *mesh_file)
    elif mtype == TRIANGLE_LIST:
        assert points is not None
        texture = _texture(msg, points.shape[0], resolve_mesh, ns, mid, warnings)
        geom = (mtype, scale, color) if texture is None else \
            (mtype, scale, color, texture.url, texture.data)
    else:
        geom = (mtype, scale, color)
    raw_points, raw_colors = points, colors
    uvs = texture.uvs if texture is not None else None
    if mtype == ARROW_STRIP and scale[0] + scale[1] == 0.0:
        warnings.append(("scale", f"{marker_label(ns, mid)}: ARROW_STRIP has scale.x + "
                         "scale.y == 0, nothing to draw"))
    in_list = lists and geo.listable(mtype, points is not None, scale, color[3])
    if (prev is not None and prev.geom == geom and _same_array(prev.points, points)
            and _same_array(prev.colors, colors) and _same_array(prev.uvs, uvs)
            and prev.listed == in_list):
        children, visible = prev.children, prev.visible
    elif in_list:
        children = []
    elif mtype == CUBE:
        children = geo.cube(key, scale, mat)
    elif mtype == SPHERE:
        children = geo.sphere(key, scale, mat)
    elif mtype == CYLINDER:
        children = geo.cylinder(key, scale, mat)
    elif mtype == ARROW:
        if points is None:
            children = geo.arrow_from_pose(key, scale, mat)
        else:
            p0 = (float(points[0, 0]), float(points[0, 1]), float(points[0, 2]))
            p1 = (float(points[1, 0]), float(points[1, 1]), float(points[1, 2]))
            length = math.dist(p0, p1)
            head = geo.ARROW_POINTS_HEAD_FRACTION * length if scale[2] == 0.0 \
                else min(max(scale[2], 0.0), length)
            children = geo.arrow_between(key, p0, p1, scale[0], scale[1], head, mat)
    elif mtype == ARROW_STRIP:
        assert points is not None
        children = geo.arrow_strip(key, points, scale, mat)
        if scale[0] + scale[1] == 0.0:
            visible = False
    elif mtype == TEXT_VIEW_FACING:
        children = geo.text(key, str(msg.text), scale[2], mat)
    elif mtype == MESH_RESOURCE:
        children, visible = _mesh(msg, key, scale, color, resolve_mesh, ns, mid, *mesh_file)
    else:
        assert points is not None
        if colors is not None:
            if mtype == TRIANGLE_LIST:
                if colors.shape[0] * 3 == points.shape[0] and colors.shape[0] != points.shape[0]:
                    colors = np.repeat(colors, 3, axis=0)
                colors = colors.copy()
                colors[:, 3] *= color[3]
            visible = bool((colors[:, 3] > 0.0).any()) if colors.shape[0] else visible
        if mtype == LINE_STRIP:
            children = geo.line(key, points, False, scale[0], colors, mat)
        elif mtype == LINE_LIST:
            children = geo.line(key, points, True, scale[0], colors, mat)
        elif mtype == CUBE_LIST:
            children = geo.cube_list(key, points, scale, colors, mat)
        elif mtype == SPHERE_LIST:
            children = geo.sphere_list(key, points, scale, colors, mat)
        elif mtype == POINTS:
            children = geo.points_cloud(key, points, scale, colors, mat)
        else:
            children = geo.triangle_list(key, points, scale, colors, mat, uvs)
            if texture is not None:
                _attach_texture(children[0], texture, resolve_mesh, ns, mid, warnings)

    lifetime = duration_ns(msg.lifetime)
    return MarkerSpec(ns=ns, id=mid, type=mtype, key=key,
                      frame_id=frame_id(str(msg.header.frame_id)),
                      stamp_ns=stamp_ns(msg.header.stamp), frame_locked=bool(msg.frame_locked),
                      pose=Transform((px, py, pz), (qx, qy, qz, qw)),
                      lifetime_ns=lifetime if lifetime > MIN_LIFETIME_NS else 0,
                      children=children, visible=visible, warnings=warnings,
                      geom=geom, points=raw_points, colors=raw_colors, uvs=uvs, listed=in_list)


# the listable types (marker_geometry.listable) whose every field a MarkerArray's columns hold
_SIMPLE_TYPES = np.array([ARROW, CUBE, SPHERE, CYLINDER, TEXT_VIEW_FACING])


def read_simple_markers(cols: Any) -> list[MarkerSpec | None]:
    """The specs of a MarkerArray's markers decoded as columns (cdr/marker_columns.py),
    for those that are MarkerList items read_marker would accept without a word (plain,
    ADD, a listable type, finite, a unit quaternion, opaque or invisible, not mirrored):
    the same spec read_marker(lists=True) gives, from the columns in one numpy pass. None
    for every other marker: read it with read_marker."""
    n = cols.n
    poses, scales, colors = cols.poses, cols.scales, cols.colors
    ok = cols.plain & (cols.actions == ADD) & np.isin(cols.types, _SIMPLE_TYPES)
    ok &= np.isfinite(poses).all(axis=1) & np.isfinite(scales).all(axis=1) & np.isfinite(colors).all(axis=1)
    ok &= (scales >= 0.0).all(axis=1)
    alpha = colors[:, 3]
    ok &= ~((alpha > 0.0) & (alpha < 1.0))
    with np.errstate(invalid="ignore"):
        ok &= np.abs(np.sqrt((poses[:, 3:] ** 2).sum(axis=1)) - 1.0) <= QUATERNION_TOLERANCE
    out: list[MarkerSpec | None] = [None] * n
    rows = np.flatnonzero(ok).tolist()
    if not rows:
        return out
    pick = np.asarray(rows)
    frames: dict[str, str] = {}
    ns_all, ids_all, types_all = cols.ns, cols.ids[pick].tolist(), cols.types[pick].tolist()
    texts, frame_ids = cols.texts, cols.frame_ids
    pose_rows, scale_rows = poses[pick].tolist(), scales[pick].tolist()
    color_rows = colors[pick].tolist()
    stamps, lives = cols.stamps[pick].tolist(), cols.lifetimes[pick].tolist()
    locked = cols.locked[pick].tolist()
    for k, i in enumerate(rows):
        ns, mid, mtype = ns_all[i], ids_all[k], types_all[k]
        px, py, pz, qx, qy, qz, qw = pose_rows[k]
        scale = (scale_rows[k][0], scale_rows[k][1], scale_rows[k][2])
        c = color_rows[k]
        color = (c[0], c[1], c[2], c[3])
        frame = frames.get(frame_ids[i])
        if frame is None:
            frame = frames[frame_ids[i]] = frame_id(frame_ids[i])
        life = lives[k]
        out[i] = MarkerSpec(
            ns=ns, id=mid, type=mtype, key=marker_key(ns, mid), frame_id=frame, stamp_ns=stamps[k],
            frame_locked=locked[k], pose=Transform((px, py, pz), (qx, qy, qz, qw)),
            lifetime_ns=life if life > MIN_LIFETIME_NS else 0, children=[], visible=color[3] > 0.0,
            geom=(mtype, scale, color, texts[i]) if mtype == TEXT_VIEW_FACING else (mtype, scale, color),
            listed=True)
    return out


def _mesh_file(msg: Any, ns: str, mid: int, shown: bytes) -> tuple[str, bytes]:
    """(suffix, bytes) of the mesh embedded in ``mesh_file``, for a marker whose
    mesh_resource is empty; checked: a known format, within the size limit, bytes of
    that format (unless they equal ``shown``, the bytes of the version shown now)."""
    mesh_file = getattr(msg, "mesh_file", None)    # Humble's Marker on has one
    size = len(mesh_file.data) if mesh_file is not None else 0
    if mesh_file is None or not size:
        raise _error(ns, mid, "mesh", "MESH_RESOURCE has an empty mesh_resource and no mesh_file data")
    filename = str(mesh_file.filename)
    suffix = emb.mesh_suffix(filename)
    if suffix is None:
        raise _error(ns, mid, "mesh", f"mesh_file.filename {filename!r}: its extension names no "
                     "mesh format read here (.stl, .dae, .obj, .glb, .gltf)")
    if size > emb.MAX_EMBEDDED_BYTES:
        raise _error(ns, mid, "mesh", f"mesh_file {filename!r} has {size} bytes, more than the limit "
                     f"of {emb.MAX_EMBEDDED_BYTES} (MAX_EMBEDDED_BYTES)")
    data = byte_string(mesh_file.data)
    problem = None if data == shown else emb.mesh_problem(data, suffix)
    if problem is not None:
        raise _error(ns, mid, "mesh", f"mesh_file {filename!r} is not a {suffix} mesh: {problem}")
    return suffix, data


def _mesh(msg: Any, key: str, scale: tuple[float, float, float],
          color: tuple[float, float, float, float], resolve_mesh: MeshResolver | None,
          ns: str, mid: int, suffix: str, data: bytes) -> tuple[list[Element], bool]:
    """MESH_RESOURCE from ``mesh_resource``, or from the checked ``data`` of ``mesh_file``."""
    uri = str(msg.mesh_resource)
    if not uri:
        tag = geo.MESH_TAGS[suffix]
        what = f"mesh_file {str(msg.mesh_file.filename)!r}"
    else:
        found = geo.mesh_tag(uri)
        if found is None:
            raise _error(ns, mid, "mesh", f"mesh_resource {uri!r} is not STL, OBJ, DAE, GLB or GLTF")
        tag, what = found, f"mesh_resource {uri!r}"
    if resolve_mesh is None:
        raise _error(ns, mid, "mesh", f"cannot load {what}: no mesh resolver is configured")
    embedded = bool(msg.mesh_use_embedded_materials)
    if embedded and color == (0.0, 0.0, 0.0, 0.0):
        # rviz: embedded materials untinted (its default material is white, opaque)
        mat, visible = geo.material((1.0, 1.0, 1.0, 1.0)), True
    else:
        mat, visible = geo.material(color), color[3] > 0.0
    children = geo.mesh(key, tag, "", scale, embedded, mat)
    try:
        # embedded bytes are served while the element that shows them lives
        url = resolve_mesh(uri) if uri else resolve_mesh.embed(data, suffix, children[0])
    except Exception as e:  # the resolver says why; any failure skips this marker only
        raise _error(ns, mid, "mesh", f"cannot load {what}: {e}") from None
    children[0].props["src"] = url
    return children, visible


@dataclass(slots=True)
class _Texture:
    """A TRIANGLE_LIST's texture: its texture_resource, (N, 2) float32 uv coordinates,
    and the URL it resolved to, or (``embedded://``) the image's bytes and suffix."""

    uri: str
    uvs: np.ndarray
    url: str = ""
    data: bytes = b""
    suffix: str = ""
    alpha: bool = False


def _texture(msg: Any, n: int, resolve_mesh: MeshResolver | None, ns: str, mid: int,
             warnings: list[tuple[str, str]]) -> _Texture | None:
    """The texture of a TRIANGLE_LIST of ``n`` points, or None: none asked for, or one
    that cannot be drawn (why goes to ``warnings``; the triangles are drawn without it,
    as rviz draws them when the uv count is wrong)."""
    uri = str(getattr(msg, "texture_resource", "") or "")
    if not uri:
        return None
    label = marker_label(ns, mid)

    def skip(text: str) -> None:
        warnings.append(("texture", f"{label}: {text}; drawn without its texture"))

    nuv = len(msg.uv_coordinates)
    if nuv != n:
        skip(f"uv_coordinates has {nuv} entries for {n} points (one per point needed)")
        return None
    uvs = uvs_array(msg.uv_coordinates).astype(np.float32)
    if not np.isfinite(uvs).all():
        bad = int(np.flatnonzero(~np.isfinite(uvs).all(axis=1))[0])
        skip(f"uv_coordinates[{bad}] has a non-finite value {tuple(uvs[bad].tolist())}")
        return None
    if resolve_mesh is None:
        skip("no resolver is configured")
        return None
    if not uri.startswith(emb.EMBEDDED_SCHEME):
        try:
            return _Texture(uri, uvs, url=resolve_mesh(uri))
        except Exception as e:  # the resolver says why
            skip(f"cannot load texture_resource {uri!r}: {e}")
            return None
    image = msg.texture
    size = len(image.data)
    if size > emb.MAX_EMBEDDED_BYTES:
        skip(f"texture has {size} bytes, more than the limit of {emb.MAX_EMBEDDED_BYTES} "
             "(MAX_EMBEDDED_BYTES)")
        return None
    data = byte_string(image.data)
    info = emb.image_info(data)
    if isinstance(info, str):
        skip(f"texture_resource is {uri!r} but texture.data ({size} bytes, format "
             f"{str(image.format)!r}): {info}")
        return None
    suffix, alpha = info
    return _Texture(uri, uvs, data=data, suffix=suffix, alpha=alpha)


def _attach_texture(mesh: Element, texture: _Texture, resolve_mesh: MeshResolver | None,
                    ns: str, mid: int, warnings: list[tuple[str, str]]) -> None:
    """Give a TriMesh the URL of its texture (embedded bytes served while it lives)."""
    url = texture.url
    if texture.data:
        assert resolve_mesh is not None    # checked in _texture
        try:
            url = resolve_mesh.embed(texture.data, texture.suffix, mesh)
        except Exception as e:  # no server to serve it: the triangles are still drawn
            warnings.append(("texture", f"{marker_label(ns, mid)}: cannot serve the embedded "
                             f"texture: {e}; drawn without its texture"))
            del mesh.props["uvs"]
            return
    mesh.props["texture"] = url
    mesh.props.pop("materialType", None)    # rviz lights a textured triangle list
    if texture.alpha:    # rviz blends an embedded texture by its alpha
        mesh.props["material"] = {**mesh.props["material"], "transparent": True}
