// TriMesh: packed float32 vertices, uint32 faces (optional: without them every three
// vertices make a triangle, as rviz TRIANGLE_LIST), uint8 colours 3 or 4 per vertex,
// optional float32 normals (computed otherwise), optional float32 uvs (2 per vertex)
// with a `texture` image URL.
//
// Texture coordinates as rviz (Ogre) maps them: (0, 0) is the image's top-left
// corner, u runs along its width, v down its height; outside 0-1 the image repeats.
// The texture multiplies the material colour (and vertex colours).
import * as THREE from 'three';
import { setGeometry } from '../geometry.js';
import { disposeMaterial, linearColors, makeMaterial, materialDefaults } from '../materials.js';
import { colorChannels, hasTranslucentAlpha, toColorBytes, toFloat32, toUint32 } from '../packed.js';
import { DEFAULTS } from '../schema.generated.js';
import { Element, any } from './base.js';

// rviz draws triangle lists from both sides: the schema's default material is double-sided
const MATERIAL = materialDefaults(DEFAULTS.TriMesh);

// Area-weighted vertex normals (computed here rather than by three so the geometry's
// attribute set stays fixed and in-place updates keep working).
function vertexNormals(positions, index) {
  const normals = new Float32Array(positions.length);
  const triangles = index ? index.length / 3 : positions.length / 9;
  const p = positions;
  for (let t = 0; t < triangles; t++) {
    const a = (index ? index[t * 3] : t * 3) * 3;
    const b = (index ? index[t * 3 + 1] : t * 3 + 1) * 3;
    const c = (index ? index[t * 3 + 2] : t * 3 + 2) * 3;
    const e1x = p[b] - p[a], e1y = p[b + 1] - p[a + 1], e1z = p[b + 2] - p[a + 2];
    const e2x = p[c] - p[a], e2y = p[c + 1] - p[a + 1], e2z = p[c + 2] - p[a + 2];
    const nx = e1y * e2z - e1z * e2y, ny = e1z * e2x - e1x * e2z, nz = e1x * e2y - e1y * e2x;
    for (const v of [a, b, c]) { normals[v] += nx; normals[v + 1] += ny; normals[v + 2] += nz; }
  }
  for (let i = 0; i < normals.length; i += 3) {
    const len = Math.hypot(normals[i], normals[i + 1], normals[i + 2]) || 1;
    normals[i] /= len; normals[i + 1] /= len; normals[i + 2] /= len;
  }
  return normals;
}

export class TriMesh extends Element {
  update(props, changed) {
    if (!this.content) this.setContent(new THREE.Mesh());
    const mesh = this.content;
    let channels = this.channels ?? 0;
    let translucent = this.translucent ?? false;

    if (any(changed, ['vertices', 'faces', 'colors', 'normals', 'uvs']) || !this.built) {
      this.built = true;
      const positions = toFloat32(props.vertices) ?? new Float32Array(0);
      const count = Math.floor(positions.length / 3);
      let index = toUint32(props.faces);
      if (index) {
        index = index.subarray(0, index.length - (index.length % 3));
        let max = 0;
        for (let i = 0; i < index.length; i++) if (index[i] > max) max = index[i];
        if (index.length && max >= count) {
          this.ctx.warn(`TriMesh ${this.key}: face index ${max} out of range (${count} vertices)`);
          index = new Uint32Array(0);
        }
      }
      const used = index ? count : count - (count % 3);
      const vertices = positions.subarray(0, used * 3);
      const attrs = { position: { array: vertices, itemSize: 3 } };
      const normals = toFloat32(props.normals);
      attrs.normal = { array: normals && normals.length === vertices.length ? normals : vertexNormals(vertices, index), itemSize: 3 };
      const colors = toColorBytes(props.colors);
      channels = colorChannels(colors, count);
      if (channels) attrs.color = { array: linearColors(colors, channels, used), itemSize: channels };
      translucent = hasTranslucentAlpha(colors, channels);
      const uvs = toFloat32(props.uvs);
      if (uvs && uvs.length >= used * 2) attrs.uv = { array: uvs.subarray(0, used * 2), itemSize: 2 };
      setGeometry(mesh, attrs, index);
    }

    if (any(changed, ['material', 'materialType']) || channels !== this.channels || translucent !== this.translucent) {
      if (mesh.material && mesh.material.map === this.map) mesh.material.map = null; // ours, kept
      disposeMaterial(mesh.material);
      mesh.material = makeMaterial(props, { ...MATERIAL, vertexColors: channels > 0, transparent: translucent });
      this.applyMap();
    }
    this.channels = channels;
    this.translucent = translucent;
    if (any(changed, ['texture']) || this.textureSrc === undefined) this.loadTexture(props.texture);
  }

  loadTexture(src) {
    this.textureSrc = typeof src === 'string' && src ? src : null;
    const token = (this.textureToken = (this.textureToken ?? 0) + 1);
    this.setMap(null);
    if (!this.textureSrc) return;
    const url = new URL(this.textureSrc, document.baseURI).href;
    const promise = new THREE.TextureLoader(this.ctx.loads.manager).loadAsync(url).then((texture) => {
      if (token !== this.textureToken || this.disposed) { texture.dispose(); return; }
      texture.flipY = false; // v = 0 is the image's first (top) row, as in rviz
      texture.colorSpace = THREE.SRGBColorSpace;
      texture.wrapS = texture.wrapT = THREE.RepeatWrapping;
      texture.needsUpdate = true;
      this.setMap(texture);
      this.ctx.requestRender();
    }, (err) => {
      if (token !== this.textureToken || this.disposed) return;
      this.ctx.warn(`TriMesh ${this.key}: cannot load texture ${url}: ${err?.message ?? err?.type ?? err}`);
    });
    this.ctx.loads.track(promise);
  }

  setMap(texture) {
    if (this.map && this.map !== texture) this.map.dispose();
    this.map = texture;
    this.applyMap();
  }

  applyMap() {
    const material = this.content?.material;
    if (!material || material.map === (this.map ?? null)) return;
    material.map = this.map ?? null;
    material.needsUpdate = true;
  }

  dispose() {
    this.disposed = true;
    if (this.content?.material?.map === this.map) this.content.material.map = null;
    this.setMap(null);
    super.dispose();
  }
}
