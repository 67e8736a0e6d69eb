// Many billboard labels (rviz TEXT_VIEW_FACING markers of a MarkerList) as one mesh:
// every label's glyph quads (glyph-atlas.js) in one geometry, each vertex tagged with
// its label, whose world centre, scale and colour the vertex shader fetches from a data
// texture and which it lays in the image plane (as a Text node's billboard does). A
// thousand labels are then one draw call and one geometry instead of a thousand of
// each (their first grab took most of the time of a 10,000-marker array's).
//
// A label too large on screen for the atlas is drawn from its glyph outlines instead,
// as a Text node does (a mesh of its own, made when first needed): the same pixels
// as that label's own node in both forms.
import * as THREE from 'three';
import { CAP_PX, glyphMaterial, pushGlyphQuads } from './glyph-atlas.js';
import { disposeMaterial } from './materials.js';
import { ROW, dataTexture } from './pulled.js';
import { textGeometry } from './text.js';
import { faceCamera } from './elements/text.js';

const TEXELS_PER_LABEL = 2; // world centre + x scale, then linear rgb + y scale

function pullLabels(material, texture) {
  const glyphs = material.onBeforeCompile;
  material.onBeforeCompile = (shader, renderer) => {
    glyphs(shader, renderer);
    shader.uniforms.labelData = { value: texture };
    shader.vertexShader = shader.vertexShader
      .replace('#include <common>', `#include <common>
attribute float itemIndex;
uniform highp sampler2D labelData;
varying vec3 vLabelColor;
vec4 labelTexel(int i) { return texelFetch(labelData, ivec2(i % ${ROW}, i / ${ROW}), 0); }`)
      .replace('#include <project_vertex>', `
  int labelFirst = ${TEXELS_PER_LABEL} * int(itemIndex + 0.5);
  vec4 labelCentre = labelTexel(labelFirst);
  vec4 labelLook = labelTexel(labelFirst + 1);
  vLabelColor = labelLook.rgb;
  // in the image plane, upright: the view's axes, the label's world scale
  vec4 mvPosition = viewMatrix * vec4(labelCentre.xyz, 1.0);
  mvPosition.xy += transformed.xy * vec2(labelCentre.w, labelLook.w);
  gl_Position = projectionMatrix * mvPosition;`);
    shader.fragmentShader = shader.fragmentShader
      .replace('#include <common>', '#include <common>\nvarying vec3 vLabelColor;')
      .replace('#include <color_fragment>', '#include <color_fragment>\ndiffuseColor.rgb *= vLabelColor;');
  };
  material.customProgramCacheKey = () => 'labelGlyphs';
  return material;
}

const world = new THREE.Matrix4();
const item = new THREE.Matrix4();
const centre = new THREE.Vector3();
const turn = new THREE.Quaternion();
const one = new THREE.Vector3(1, 1, 1);

export class Labels {
  // holder: the THREE.Object3D the labels' poses are in (their node's holder);
  // material: the labels' material, white (each label has its colour); owned
  constructor(holder, material) {
    this.holder = holder;
    this.material = material;
    this.count = 0;
    this.outlines = new Map(); // label index -> {anchor, mesh} drawn from its outline
    this.mesh = null;
  }

  // texts, font sizes (capital height, metres), anchors: the labels' glyphs (a new geometry)
  setGlyphs(texts, sizes, anchorX, anchorY) {
    this.disposeGlyphs();
    const count = sizes.length;
    this.count = count;
    this.texts = texts;
    this.sizes = sizes;
    this.anchors = [anchorX, anchorY];
    const out = { position: [], uv: [], index: [] };
    const itemIndex = [];
    for (let i = 0; i < count; i++) {
      const quads = pushGlyphQuads(out, String(texts[i] ?? ''), sizes[i], anchorX, anchorY);
      for (let k = 0; k < 4 * quads; k++) itemIndex.push(i);
    }
    const geometry = new THREE.BufferGeometry();
    geometry.setAttribute('position', new THREE.Float32BufferAttribute(out.position, 3));
    geometry.setAttribute('uv', new THREE.Float32BufferAttribute(out.uv, 2));
    geometry.setAttribute('itemIndex', new THREE.Float32BufferAttribute(itemIndex, 1));
    geometry.setIndex(out.index);
    this.texture = dataTexture(Math.max(1, count) * TEXELS_PER_LABEL, Float32Array);
    this.mesh = new THREE.Mesh(geometry, pullLabels(glyphMaterial(this.material), this.texture));
    this.mesh.frustumCulled = false; // its vertices are placed in the shader
    this.mesh.matrixAutoUpdate = false;
    this.holder.add(this.mesh);
  }

  // poses: Float64Array, 7 per label (in the holder); rgb: linear, 3 per label;
  // drawn: 1 per label (0: hidden)
  setItems(poses, rgb, drawn) {
    this.poses = poses;
    this.rgb = rgb;
    this.drawn = drawn;
  }

  // Before each render (viewer.js): each label's world centre and scale, and its form
  // for this view (quads while its capitals are at most the atlas's size on screen).
  beforeView(view) {
    if (!this.mesh) return;
    const d = this.texture.image.data;
    const p = this.poses;
    const holderWorld = this.holder.matrixWorld;
    for (let i = 0; i < this.count; i++) {
      const o = 8 * i;
      let big = false;
      if (this.drawn[i] && p.length >= 7 * (i + 1)) {
        const q = 7 * i;
        turn.set(p[q + 3], p[q + 4], p[q + 5], p[q + 6]);
        if (turn.lengthSq() === 0) turn.identity(); else turn.normalize();
        item.compose(centre.set(p[q], p[q + 1], p[q + 2]), turn, one);
        const e = world.multiplyMatrices(holderWorld, item).elements;
        const sx = Math.hypot(e[0], e[1], e[2]), sy = Math.hypot(e[4], e[5], e[6]);
        const sz = Math.hypot(e[8], e[9], e[10]);
        centre.set(e[12], e[13], e[14]);
        big = this.sizes[i] * Math.max(sx, sy, sz) * view.pxPerUnit(centre) > CAP_PX;
        d[o] = e[12]; d[o + 1] = e[13]; d[o + 2] = e[14]; d[o + 3] = big ? 0 : sx;
        d[o + 4] = this.rgb[3 * i]; d[o + 5] = this.rgb[3 * i + 1]; d[o + 6] = this.rgb[3 * i + 2];
        d[o + 7] = big ? 0 : sy;
      } else {
        d[o + 3] = d[o + 7] = 0; // no area: nothing drawn
      }
      this.showOutline(i, big);
    }
    this.texture.needsUpdate = true;
  }

  // Label i drawn from its outline (a mesh of its own, as a Text node draws it) or not.
  showOutline(i, shown) {
    let outline = this.outlines.get(i);
    if (!shown) {
      if (outline) outline.anchor.visible = false;
      return;
    }
    if (!outline) {
      const material = this.material.clone();
      material.color.setRGB(this.rgb[3 * i], this.rgb[3 * i + 1], this.rgb[3 * i + 2]);
      const mesh = new THREE.Mesh(textGeometry(String(this.texts[i] ?? ''), this.sizes[i], ...this.anchors), material);
      mesh.onBeforeRender = faceCamera;
      mesh.frustumCulled = false;
      const anchor = new THREE.Object3D();
      anchor.add(mesh);
      this.holder.add(anchor);
      outline = { anchor, mesh };
      this.outlines.set(i, outline);
    }
    const q = 7 * i, p = this.poses;
    outline.anchor.position.set(p[q], p[q + 1], p[q + 2]);
    turn.set(p[q + 3], p[q + 4], p[q + 5], p[q + 6]);
    outline.anchor.quaternion.copy(turn.lengthSq() === 0 ? turn.identity() : turn.normalize());
    outline.mesh.material.color.setRGB(this.rgb[3 * i], this.rgb[3 * i + 1], this.rgb[3 * i + 2]);
    outline.anchor.visible = true;
    outline.anchor.updateMatrixWorld(true);
  }

  disposeGlyphs() {
    if (this.mesh) {
      this.mesh.removeFromParent();
      this.mesh.geometry.dispose();
      disposeMaterial(this.mesh.material);
      this.texture.dispose();
      this.mesh = null;
    }
    for (const { anchor, mesh } of this.outlines.values()) {
      anchor.removeFromParent();
      mesh.geometry.dispose();
      disposeMaterial(mesh.material);
    }
    this.outlines.clear();
  }

  dispose() {
    this.disposeGlyphs();
    disposeMaterial(this.material);
  }
}
