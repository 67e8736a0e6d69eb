// Camera-related nodes. All follow the three.js camera convention: looking down local
// -Z with +Y up (a ROS optical frame is this turned 180 degrees about X).
import * as THREE from 'three';
import { parseColor } from '../materials.js';
import { DEFAULTS } from '../schema.generated.js';
import { Element } from './base.js';

// fov, width, height, near, far of a CameraView without them (grab.js too)
export const CAMERA_DEFAULTS = DEFAULTS.CameraView;

function num(value, fallback) {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

// Pyramid edges plus near and far rectangles, as line segments.
function frustumLines({ fov, aspect, near, far }, color) {
  const t = Math.tan(THREE.MathUtils.degToRad(fov) / 2);
  const corners = (d) => [[-1, -1], [1, -1], [1, 1], [-1, 1]].map(([x, y]) => [x * d * t * aspect, y * d * t, -d]);
  const n = corners(near);
  const f = corners(far);
  const v = [];
  for (let i = 0; i < 4; i++) {
    const j = (i + 1) % 4;
    v.push(0, 0, 0, ...f[i]); // apex to far corner
    v.push(...n[i], ...n[j], ...f[i], ...f[j]);
  }
  // a small triangle over the far plane marks "up" (+Y)
  const top = far * t;
  v.push(-0.3 * top * aspect, top * 1.05, -far, 0, top * 1.3, -far, 0, top * 1.3, -far, 0.3 * top * aspect, top * 1.05, -far);
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.Float32BufferAttribute(v, 3));
  return new THREE.LineSegments(geometry, new THREE.LineBasicMaterial({ color }));
}

// Frustum: fov (vertical deg), aspect, near, far, colorFrustum; `scale` scales it as
// a transform.
export class Frustum extends Element {
  update(props) {
    const D = DEFAULTS.Frustum;
    const params = {
      fov: num(props.fov, D.fov), aspect: num(props.aspect, D.aspect), near: num(props.near, D.near), far: num(props.far, D.far),
    };
    this.setContent(frustumLines(params, parseColor(props.colorFrustum ?? props.color) ?? parseColor(D.colorFrustum)));
  }
}

// CameraView: a grab target (GRAB_RENDER with its key renders from it, see grab.js).
// Nothing drawn unless `showFrustum` is true.
export class CameraView extends Element {
  update(props) {
    if (props.showFrustum !== true) { this.setContent(null); return; }
    const width = num(props.width, CAMERA_DEFAULTS.width);
    const height = num(props.height, CAMERA_DEFAULTS.height);
    this.setContent(frustumLines({
      fov: num(props.fov, CAMERA_DEFAULTS.fov), aspect: width / height,
      near: 0.02, far: num(props.frustumScale, CAMERA_DEFAULTS.frustumScale), // a marker, not the clip range
    }, parseColor(props.colorFrustum) ?? parseColor(CAMERA_DEFAULTS.colorFrustum)));
  }
}

// GrabRender: marks the default view as grabbable; nothing to draw.
export class GrabRender extends Element { }
