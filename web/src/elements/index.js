// Tag -> builder, for exactly the tags of the wire schema (schema.generated.js, made
// from vuer_ros/protocol/schema.py) and their aliases: the client draws no tag the
// schema lacks. docs/protocol.md lists the tags and their props.
import { ALIASES, TAGS } from '../schema.generated.js';
import { Element } from './base.js';
import { CameraView, Frustum, GrabRender } from './cameras.js';
import { Cloud } from './cloud.js';
import { CubeList, SphereList } from './lists.js';
import { Line } from './lines.js';
import { MapTile } from './map.js';
import { MarkerList } from './marker-list.js';
import { TriMesh } from './mesh.js';
import { Dae, Glb, Obj, Stl } from './models.js';
import { PointCloud } from './points.js';
import { Arrow, Box, Cone, Cylinder, Plane, Sphere } from './primitives.js';
import { SceneRoot } from './scene-root.js';
import { AmbientLight, DirectionalLight, Grid, HemisphereLight, PointLight } from './scenery.js';
import { Text } from './text.js';

// Group has no visual: the node's own THREE.Group carries transform and children.
class Group extends Element { }

// One builder per schema tag (test/protocol/test_schema.py checks both ways).
export const BUILDERS = {
  Scene: SceneRoot, Group,
  Box, Sphere, Cylinder, Cone, Plane, Arrow,
  Line, TriMesh, PointCloud, CubeList, SphereList, MarkerList, Text,
  Obj, Stl, Dae, Glb,
  Frustum, CameraView, GrabRender,
  Grid, AmbientLight, DirectionalLight, HemisphereLight, PointLight,
  MapTile,
  Cloud,
};

function tagMap() {
  const map = {};
  for (const tag of TAGS) if (BUILDERS[tag]) map[tag] = BUILDERS[tag];
  for (const [alias, tag] of Object.entries(ALIASES)) if (map[tag]) map[alias] = map[tag];
  return Object.freeze(map);
}

export const ELEMENTS = tagMap();

// Unknown tags render as an empty group (their children still render).
export class Unknown extends Element { }
