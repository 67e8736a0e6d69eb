// Text: `text` (or a string child), `fontSize` = cap height in metres, `billboard`
// (always faces the camera, rviz TEXT_VIEW_FACING), anchorX / anchorY, material.color.
// Unlit by default (materialType basic) so labels read the same from any side.
// Drawn from the glyph outlines, or, when small on screen, as textured quads from the
// glyph atlas (glyph-atlas.js): the same pixels for far fewer triangles.
import * as THREE from 'three';
import { CAP_PX, glyphMaterial, glyphQuads } from '../glyph-atlas.js';
import { disposeMaterial, makeMaterial, materialDefaults } from '../materials.js';
import { DEFAULTS } from '../schema.generated.js';
import { textGeometry } from '../text.js';
import { Element, any } from './base.js';

const D = DEFAULTS.Text;
const MATERIAL = materialDefaults(D);

const position = new THREE.Vector3();
const scale = new THREE.Vector3();
const rotation = new THREE.Quaternion();
const cameraRotation = new THREE.Quaternion();
const cameraPosition = new THREE.Vector3();
const cameraScale = new THREE.Vector3();

// Runs just before the draw: keep the world position and scale, take the camera's
// rotation, so the text lies in the image plane, upright on screen.
export function faceCamera(renderer, scene, camera) {
  this.parent.matrixWorld.decompose(position, rotation, scale);
  camera.matrixWorld.decompose(cameraPosition, cameraRotation, cameraScale);
  this.matrixWorld.compose(position, cameraRotation, scale);
}

export class Text extends Element {
  update(props, changed) {
    const text = props.text ?? props._text ?? D.text;
    if (!this.content) {
      const mesh = new THREE.Mesh();
      this.setContent(mesh);
      changed = new Set(['text', 'material']);
      this.ctx.viewDependent?.add(this);
    }
    const mesh = this.content;
    if (any(changed, ['text', '_text', 'fontSize', 'anchorX', 'anchorY'])) {
      this.disposeForms();
      const size = typeof props.fontSize === 'number' ? props.fontSize : D.fontSize;
      this.spec = String(text).trim() ? [String(text), size, props.anchorX ?? D.anchorX, props.anchorY ?? D.anchorY] : null;
    }
    if (any(changed, ['material', 'materialType'])) {
      this.disposeMaterials();
      this.material = makeMaterial(props, MATERIAL);
    }
    this.show(this.asQuads ?? true);   // beforeView picks the form for each view
    const billboard = props.billboard === true;
    mesh.onBeforeRender = billboard ? faceCamera : () => {};
    // the billboard's drawn matrix is not the one frustum culling sees
    mesh.frustumCulled = !billboard;
  }

  // Draw the text as glyph quads (`quads`) or from its outlines; each form built once.
  show(quads) {
    const mesh = this.content;
    this.asQuads = quads;
    if (!this.spec) {
      this.outline ??= new THREE.BufferGeometry();
      mesh.geometry = this.outline;
      mesh.material = this.material;
    } else if (quads) {
      this.quads ??= glyphQuads(...this.spec);
      this.glyphs ??= glyphMaterial(this.material);
      mesh.geometry = this.quads;
      mesh.material = this.glyphs;
    } else {
      this.outline ??= textGeometry(...this.spec);
      mesh.geometry = this.outline;
      mesh.material = this.material;
    }
  }

  // Before each render (viewer.js): capitals at most the atlas's size on screen are
  // drawn as glyph quads (a thousand labels were as many triangles as a thousand solids).
  beforeView(view) {
    if (!this.spec || !this.content) return;
    const e = this.holder.matrixWorld.elements;
    position.set(e[12], e[13], e[14]);
    const stretch = Math.sqrt(Math.max(e[0] ** 2 + e[1] ** 2 + e[2] ** 2, e[4] ** 2 + e[5] ** 2 + e[6] ** 2,
      e[8] ** 2 + e[9] ** 2 + e[10] ** 2));
    this.show(this.spec[1] * stretch * view.pxPerUnit(position) <= CAP_PX);
  }

  disposeForms() {
    this.outline?.dispose();
    this.quads?.dispose();
    this.outline = this.quads = null;
  }

  disposeMaterials() {
    disposeMaterial(this.material);
    disposeMaterial(this.glyphs);
    this.material = this.glyphs = null;
  }

  dispose() {
    this.ctx.viewDependent?.delete(this);
    this.disposeForms();
    this.disposeMaterials();
    super.dispose();
  }
}
