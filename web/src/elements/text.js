// Text: `text` (or a string child), `fontSize` = cap height in metres, `billboard`
// (always faces the camera, rviz TEXT_VIEW_FACING), anchorX / anchorY, material.color.
// Unlit by default (materialType basic) so labels read the same from any side.
import * as THREE from 'three';
import { makeMaterial } from '../materials.js';
import { textGeometry } from '../text.js';
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
    }
    const mesh = this.content;
    if (any(changed, ['text', '_text', 'fontSize', 'anchorX', 'anchorY'])) {
      mesh.geometry.dispose();
      const size = typeof props.fontSize === 'number' ? props.fontSize : 0.1;
      mesh.geometry = String(text).trim() ? textGeometry(text, size, props.anchorX, props.anchorY) : new THREE.BufferGeometry();
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
}
