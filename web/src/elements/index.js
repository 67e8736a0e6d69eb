// Tag -> builder. docs/protocol.md lists the tags and their props.
import { Element } from './base.js';
import { CameraView, Frustum, GrabRender } from './cameras.js';
import { CubeList, SphereList } from './lists.js';
import { Line } from './lines.js';
import { TriMesh } from './mesh.js';
import { Dae, Glb, Obj, Stl } from './models.js';
import { PointCloud } from './points.js';
import { Arrow, Box, Cone, Cylinder, Plane, Sphere } from './primitives.js';
import { AmbientLight, DirectionalLight, Grid, HemisphereLight, PointLight } from './scenery.js';
import { Text } from './text.js';

// Group has no visual: the node's own THREE.Group carries transform and children.
class Group extends Element { }

export const ELEMENTS = {
  Group, Frame: Group, VuerGroup: Group,
  Box, Sphere, Cylinder, Cone, Plane, Arrow,
  Line, TriMesh, PointCloud, CubeList, SphereList, Text,
  Obj, Stl, Dae, Glb,
  Frustum, CameraView, GrabRender,
  Grid, AmbientLight, DirectionalLight, HemisphereLight, PointLight,
};

// Unknown tags render as an empty group (their children still render).
export class Unknown extends Element { }
