"""RobotModel: a parsed URDF (urdf.py) -> one Group of visuals per link.

What the scene model hangs under each link's TF group, as rviz's RobotModel
display draws it (rviz_default_plugins robot_link.cpp)::

    Group tf:<link>                       (the TF frame; the scene model's)
      Group robot:<link>                  (this module: the link's visuals)
        Group robot:<link>#visual<i>      at the visual's <origin>
          Box | Sphere | Cylinder | Stl | Dae | Obj | Glb   robot:<link>#visual<i>#body

- Shapes are rviz's unit shapes scaled as rviz scales them (the same
  ``marker_geometry`` functions the markers use, so the Y->Z cylinder turn is
  written once): box by its size, sphere by its diameter, cylinder by
  (diameter, diameter, length) with its axis on local Z.
- Colour: the URDF material's rgba (alpha < 1 is transparent); no material:
  rviz's default red (``RVIZ/ShadedRed``). Lit, as rviz lights robots.
- Meshes load from the URL ``resolve_mesh(uri)`` gives (package:// and file://
  served from allowed roots only; see scene/mesh_resolver.py). STL and OBJ take
  the URDF colour; DAE and GLB keep their own materials (rviz keeps a mesh's
  materials and uses the URDF colour only where the file has none). A mesh
  that cannot be served is left out, and the rest of the robot is built; the
  failures are grouped by cause (one line for every mesh of an unknown
  package), so the scene model logs each cause once.
- A texture is not drawn: the material's colour is used (white without one).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Hashable
from urllib.parse import urlsplit

from ..protocol.elements import Dae, Element, Glb, Group
from . import marker_geometry as geo
from .keys import part_key, robot_link_key
from .markers import MeshResolver
from .urdf import RobotDescription, Rgba, UrdfVisual

# rviz's RVIZ/ShadedRed: the colour of a link whose visuals have no material
DEFAULT_RGBA: Rgba = (1.0, 0.0, 0.0, 1.0)
# a material with only a texture (not drawn): its surface colour
TEXTURE_RGBA: Rgba = (1.0, 1.0, 1.0, 1.0)
# meshes that keep the materials in the file
EMBEDDED_MATERIAL_TAGS = (Dae, Glb)
# mesh URIs named in one grouped problem
_NAMED = 3


@dataclass
class RobotProblem:
    """Something of the robot that is not shown as written; ``cause`` groups
    repeats (the scene model logs each cause once)."""

    cause: Hashable
    kind: str
    message: str
    level: int = logging.WARNING


@dataclass
class RobotModel:
    """The scene elements of one robot description."""

    description: RobotDescription
    links: dict[str, Group]                 # link -> its visuals (links with at least one)
    problems: list[RobotProblem] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.description.name

    @property
    def source(self) -> str:
        return self.description.source


def build_robot_model(description: RobotDescription,
                      resolve_mesh: MeshResolver | None) -> RobotModel:
    """Elements for every link of ``description``; problems instead of exceptions."""
    label = description.label()
    problems = [RobotProblem(("urdf", kind, text), kind, text)
                for kind, text in description.warnings]
    failed: dict[tuple[str, str], list[UrdfVisual]] = {}   # (kind, cause text) -> visuals
    links: dict[str, Group] = {}
    for link in description.links:
        key = robot_link_key(link.name)
        children: list[Element] = []
        for v in link.visuals:
            vkey = part_key(key, f"visual{v.index}")
            body = _geometry(v, vkey, resolve_mesh, failed)
            if body:
                children.append(Group(*body, key=vkey, position=v.origin.position_list,
                                      quaternion=v.origin.quaternion_list))
        textured = [v for v in link.visuals if v.material is not None and v.material.texture]
        if textured:
            failed.setdefault(("texture", "textures are not drawn; the material colour is used "
                               "(white without one)"), []).extend(textured)
        if children:
            links[link.name] = Group(*children, key=key)
    for (kind, text), visuals in failed.items():
        problems.append(_grouped(label, kind, text, visuals))
    return RobotModel(description, links, problems)


def _material(v: UrdfVisual) -> geo.Material:
    m = v.material
    if m is None:
        return geo.material(DEFAULT_RGBA)
    return geo.material(m.rgba if m.rgba is not None else TEXTURE_RGBA)


def _geometry(v: UrdfVisual, key: str, resolve_mesh: MeshResolver | None,
              failed: dict[tuple[str, str], list[UrdfVisual]]) -> list[Element]:
    mat = _material(v)
    if v.kind == "box":
        return geo.cube(key, v.size, mat)
    if v.kind == "sphere":
        return geo.sphere(key, v.size, mat)
    if v.kind == "cylinder":
        return geo.cylinder(key, v.size, mat)
    uri = v.mesh_uri or ""
    tag = geo.mesh_tag(uri)
    if tag is None:
        ext = uri.split("?", 1)[0].rsplit("/", 1)[-1].rpartition(".")[2].lower() or "(none)"
        failed.setdefault(("mesh-format", f"mesh format '.{ext}' is not supported (STL, DAE, "
                           "OBJ, GLB/GLTF)"), []).append(v)
        return []
    if not urlsplit(uri).scheme:
        failed.setdefault(("mesh", "a relative mesh path needs the URDF's folder: use package:// "
                           "or file:// URIs in a robot_description from a topic"), []).append(v)
        return []
    if resolve_mesh is None:
        failed.setdefault(("mesh", "meshes cannot be served here (no mesh resolver)"),
                          []).append(v)
        return []
    try:
        url = resolve_mesh(uri)
    except Exception as e:  # MeshError from the resolver; anything else is reported the same way
        failed.setdefault(("mesh", str(e) or type(e).__name__), []).append(v)
        return []
    return geo.mesh(key, tag, url, v.size, tag in EMBEDDED_MATERIAL_TAGS, mat)


def _grouped(label: str, kind: str, text: str, visuals: list[UrdfVisual]) -> RobotProblem:
    links = list(dict.fromkeys(v.link for v in visuals))
    names = ", ".join(f"'{n}'" for n in links[:_NAMED]) + (
        f" and {len(links) - _NAMED} more" if len(links) > _NAMED else "")
    link_word = "link" if len(links) == 1 else "links"
    if kind == "texture":
        return RobotProblem((kind, text), kind, f"{label}: {link_word} {names}: {text}",
                            logging.INFO)
    uris = list(dict.fromkeys(v.filename or v.mesh_uri or "" for v in visuals))
    shown = ", ".join(uris[:_NAMED]) + (f" and {len(uris) - _NAMED} more" if len(uris) > _NAMED else "")
    what = "mesh" if len(uris) == 1 else f"{len(uris)} meshes"
    return RobotProblem((kind, text), kind,
                        f"{label}: {what} not shown ({shown}; {link_word} {names}): {text}; "
                        "the rest of the robot is shown", logging.ERROR)
