// Text: `text` (or a string child), `fontSize` = cap height in metres, `billboard`
// (always faces the camera, rviz TEXT_VIEW_FACING), anchorX / anchorY, material.color.
// Unlit by default (materialType basic) so labels read the same from any side.
import * as THREE from 'three';
import { makeMaterial } from '../materials.js';
import { curveSegmentsFor, textGeometry } from '../text.js';
import { Element, any } from './base.js';

const position = new THREE.Vector3();
const scale = new THREE.Vector3();
const rotation = new THREE.Quaternion();
const cameraRotation = new THREE.Quaternion();
const cameraPosition = new THREE.Vector3();
const cameraScale = new THREE.Vector3();

// Runs just before the draw: keep the world position and scale, take the camera's
// rotation, so the text lies in the image plane, upright on screen.
function faceCamera(renderer, scene, camera) {
  this.parent.matrixWorld.decompose(position, rotation, scale);
  camera.matrixWorld.decompose(cameraPosition, cameraRotation, cameraScale);
  this.matrixWorld.compose(position, cameraRotation, scale);
}

export class Text extends Element {
  update(props, changed) {
    const text = props.text ?? props._text ?? '';
    if (!this.content) {
      const mesh = new THREE.Mesh();
      this.setContent(mesh);
      changed = new Set(['text', 'material']);
      this.ctx.viewDependent?.add(this);
    }
    const mesh = this.content;
    if (any(changed, ['text', '_text', 'fontSize', 'anchorX', 'anchorY'])) {
      this.disposeGeometries();
      const size = typeof props.fontSize === 'number' ? props.fontSize : 0.1;
      this.spec = String(text).trim() ? [String(text), size, props.anchorX, props.anchorY] : null;
      mesh.geometry = this.geometry(4);
    }
    if (any(changed, ['material', 'materialType'])) {
      mesh.material.dispose();
      mesh.material = makeMaterial(props, { type: 'basic', side: THREE.DoubleSide, color: '#ffffff' });
    }
    const billboard = props.billboard === true;
    mesh.onBeforeRender = billboard ? faceCamera : () => {};
    // the billboard's drawn matrix is not the one frustum culling sees
    mesh.frustumCulled = !billboard;
  }

  // The glyphs with `segments` per curve, built once each.
  geometry(segments) {
    if (!this.spec) return new THREE.BufferGeometry();
    this.geometries ??= new Map();
    let geometry = this.geometries.get(segments);
    if (!geometry) {
      geometry = textGeometry(...this.spec, segments);
      this.geometries.set(segments, geometry);
    }
    return geometry;
  }

  // Before each render (viewer.js): small text on screen gets fewer curve segments
  // (a thousand labels were as many triangles as a thousand solids).
  beforeView(view) {
    if (!this.spec || !this.content) return;
    const e = this.holder.matrixWorld.elements;
    position.set(e[12], e[13], e[14]);
    const stretch = Math.sqrt(Math.max(e[0] ** 2 + e[1] ** 2 + e[2] ** 2, e[4] ** 2 + e[5] ** 2 + e[6] ** 2,
      e[8] ** 2 + e[9] ** 2 + e[10] ** 2));
    const capPx = this.spec[1] * stretch * view.pxPerUnit(position);
    this.content.geometry = this.geometry(curveSegmentsFor(capPx));
  }

  disposeGeometries() {
    for (const geometry of this.geometries?.values() ?? []) geometry.dispose();
    this.geometries = null;
  }

  dispose() {
    this.ctx.viewDependent?.delete(this);
    this.disposeGeometries();
    super.dispose();
  }
}
