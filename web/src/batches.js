// Many small solids, few draws. Box / Sphere / Cylinder / Cone / Plane nodes whose
// shape reduces to one unit shape (a box of any size is a scaled unit box) and whose
// opaque material is the same apart from its colour are drawn together: one pulled
// mesh per batch chunk (pulled.js), each item's world matrix and colour fetched from a
// data texture. A MarkerArray of 1,000 cubes, spheres, cylinders and arrows is then
// a handful of draw calls instead of ~1,150, which on SwiftShader was most of a
// grab's time (bench/node_scene_cost.py).
//
// The scene graph is unchanged: each node keeps its holder group (transform, children,
// visibility); only its mesh is replaced by a slot in a batch. A MarkerList node joins
// with all its items at once (one member, a packed array of item matrices in the
// node's frame: elements/marker-list.js), so its thousands of markers are no nodes at
// all. Before every render, sync() copies each item's world matrix (times its
// unit-shape scale) into a slot, culls items outside the camera's view, and draws
// small-on-screen items with fewer segments (at most half a pixel off the full
// shape's silhouette).
// Translucent materials are not batched: they need per-object depth sorting.
import * as THREE from 'three';
import { impostorMaxRadiusPx, impostorPoints, impostorShape } from './impostors.js';
import { disposeMaterial } from './materials.js';
import { ROW, dataTexture, itemTemplate } from './pulled.js';

const TEXELS_PER_ITEM = 4; // three matrix rows, then linear rgb
const FIRST_CAPACITY = 16;
const VERTICES_PER_CHUNK = 1 << 17;
const KEEP_EMPTY_MS = 20000;

// The member's world matrix (column-major, times the unit scale) as three rows, and
// its colour. The normal goes through the cofactor matrix (det * inverse transpose),
// exact for any affine pose, and still right for a solid flattened to zero thickness.
function pullPose(material, texture) {
  material.onBeforeCompile = (shader) => {
    shader.uniforms.itemData = { value: texture };
    shader.vertexShader = shader.vertexShader
      .replace('#include <common>', `#include <common>
attribute float itemIndex;
uniform highp sampler2D itemData;
varying vec3 vItemColor;
vec4 itemTexel(int i) { return texelFetch(itemData, ivec2(i % ${ROW}, i / ${ROW}), 0); }`)
      .replace('void main() {', `void main() {
  int itemFirst = ${TEXELS_PER_ITEM} * int(itemIndex + 0.5);
  vec4 itemRow0 = itemTexel(itemFirst);
  vec4 itemRow1 = itemTexel(itemFirst + 1);
  vec4 itemRow2 = itemTexel(itemFirst + 2);
  vItemColor = itemTexel(itemFirst + 3).rgb;`)
      .replace('#include <beginnormal_vertex>', `#include <beginnormal_vertex>
  {
    vec3 c0 = vec3(itemRow0.x, itemRow1.x, itemRow2.x);
    vec3 c1 = vec3(itemRow0.y, itemRow1.y, itemRow2.y);
    vec3 c2 = vec3(itemRow0.z, itemRow1.z, itemRow2.z);
    objectNormal = mat3(cross(c1, c2), cross(c2, c0), cross(c0, c1)) * objectNormal;
  }`)
      .replace('#include <begin_vertex>', `#include <begin_vertex>
  transformed = vec3(dot(itemRow0, vec4(transformed, 1.0)), dot(itemRow1, vec4(transformed, 1.0)),
                     dot(itemRow2, vec4(transformed, 1.0)));`);
    shader.fragmentShader = shader.fragmentShader
      .replace('#include <common>', '#include <common>\nvarying vec3 vItemColor;')
      .replace('#include <color_fragment>', '#include <color_fragment>\ndiffuseColor.rgb *= vItemColor;');
  };
  material.customProgramCacheKey = () => 'batchedPose';
  return material;
}

// One pulled mesh with room for `capacity` items (points drawn as sphere impostors
// when `impostors`).
class Chunk {
  constructor(shape, material, capacity, impostors) {
    this.capacity = capacity;
    this.texture = dataTexture(capacity * TEXELS_PER_ITEM, Float32Array);
    const geometry = itemTemplate(shape, capacity);
    const pulled = pullPose(material.clone(), this.texture);
    this.mesh = impostors ? impostorPoints(geometry, pulled) : new THREE.Mesh(geometry, pulled);
    this.mesh.frustumCulled = false; // the template's bounds are not the items'; items are culled in sync()
    this.mesh.matrixAutoUpdate = false;
  }

  dispose() {
    this.mesh.removeFromParent();
    this.mesh.geometry.dispose();
    disposeMaterial(this.mesh.material);
    this.texture.dispose();
  }
}

// One level of detail of a batch's shape: its chunks, and the items drawn with it
// in the current sync, staged in the data texture's layout.
class Level {
  constructor(shape, step, group, impostors = false) {
    this.shape = shape;
    this.step = step; // angle between neighbouring segments (0: flat-faced, exact)
    this.group = group;
    this.impostors = impostors;
    this.chunks = [];
    this.staged = new Float32Array(FIRST_CAPACITY * TEXELS_PER_ITEM * 4);
    this.count = 0;
    this.indicesPerItem = shape.index ? shape.index.count : shape.attributes.position.count;
    const vertices = shape.attributes.position.count;
    this.maxPerChunk = Math.max(1, Math.floor(VERTICES_PER_CHUNK / Math.max(1, vertices)));
  }

  // One item: world matrix `w` (column-major, unit scale included), linear colour.
  push(w, r, g, b) {
    let d = this.staged;
    const o = this.count * TEXELS_PER_ITEM * 4;
    if (o + 16 > d.length) {
      d = new Float32Array(d.length * 2);
      d.set(this.staged);
      this.staged = d;
    }
    d[o] = w[0]; d[o + 1] = w[4]; d[o + 2] = w[8]; d[o + 3] = w[12];
    d[o + 4] = w[1]; d[o + 5] = w[5]; d[o + 6] = w[9]; d[o + 7] = w[13];
    d[o + 8] = w[2]; d[o + 9] = w[6]; d[o + 10] = w[10]; d[o + 11] = w[14];
    d[o + 12] = r; d[o + 13] = g; d[o + 14] = b; d[o + 15] = 1;
    this.count++;
  }

  // Chunks for n items: while one chunk will do, it grows by 4x (from 16 items) up to
  // the chunk limit; beyond that every chunk is full size (item i is in chunk
  // i / maxPerChunk). A level that shrinks keeps its first chunk.
  fit(n, material) {
    const needed = Math.ceil(n / this.maxPerChunk);
    // an empty level keeps its first chunk: its items may be back in view next frame
    while (this.chunks.length > Math.max(needed, 1)) this.chunks.pop().dispose();
    const first = this.chunks[0];
    if (first && needed >= 1 && first.capacity < (needed === 1 ? n : this.maxPerChunk)) {
      for (const chunk of this.chunks.splice(0)) chunk.dispose();
    }
    while (this.chunks.length < needed) {
      let capacity = this.maxPerChunk;
      if (needed === 1) {
        capacity = FIRST_CAPACITY;
        while (capacity < n) capacity *= 4;
        capacity = Math.min(capacity, this.maxPerChunk);
      }
      const chunk = new Chunk(this.shape, material, capacity, this.impostors);
      this.group.add(chunk.mesh);
      this.chunks.push(chunk);
    }
  }

  write(material) {
    const n = this.count;
    this.fit(n, material);
    const floats = TEXELS_PER_ITEM * 4;
    for (let c = 0; c < this.chunks.length; c++) {
      const chunk = this.chunks[c];
      const first = c * this.maxPerChunk;
      const count = Math.max(0, Math.min(chunk.capacity, n - first));
      if (count > 0) {
        chunk.texture.image.data.set(this.staged.subarray(first * floats, (first + count) * floats));
        chunk.texture.needsUpdate = true;
      }
      chunk.mesh.geometry.setDrawRange(0, count * this.indicesPerItem);
      chunk.mesh.visible = count > 0;
    }
    this.count = 0;
  }

  dispose() {
    for (const chunk of this.chunks) chunk.dispose();
    this.chunks = [];
    this.shape.dispose();
  }
}

// The coarsest level may move a silhouette by at most this much, against the full
// level: small items on screen (a 1,000-marker array seen from afar) need a fraction
// of the triangles, and SwiftShader's time goes with the triangle count.
const MAX_LOD_ERROR_PX = 0.5;

const sphere = new THREE.Sphere();
const world = new Float64Array(16);
const placeColumns = [0, 0, 0];

// out = a * (the 16 numbers of b from `at`), both affine column-major 4x4 matrices.
function affineProduct(a, b, at, out) {
  for (let c = 0; c < 4; c++) {
    const b0 = b[at + 4 * c], b1 = b[at + 4 * c + 1], b2 = b[at + 4 * c + 2];
    const t = c === 3 ? 1 : 0;
    out[4 * c] = a[0] * b0 + a[4] * b1 + a[8] * b2 + a[12] * t;
    out[4 * c + 1] = a[1] * b0 + a[5] * b1 + a[9] * b2 + a[13] * t;
    out[4 * c + 2] = a[2] * b0 + a[6] * b1 + a[10] * b2 + a[14] * t;
    out[4 * c + 3] = t;
  }
}

// Whether a sphere of `radius` about `center` is wholly inside the view.
function inside(frustum, center, radius) {
  for (const plane of frustum.planes) if (plane.distanceToPoint(center) < radius) return false;
  return true;
}

class Batch {
  // levels: [{make(), step}] full detail first; round: the unit shape's axes of
  // radius 1 that its segments go round (sphere x, y, z; cylinder and cone x, z);
  // impostorMaxPx: the largest radius on screen (pixels) drawn as an impostor
  // (impostors.js) when the shape is the whole unit sphere, else 0;
  // material: the template, colour white (owned)
  constructor(levels, round, material, group, impostorMaxPx = 0) {
    this.levels = levels.map(({ make, step }) => new Level(make(), step, group));
    this.round = round;
    this.material = material;
    this.members = new Set();
    this.emptySince = null; // when its last member left (performance.now())
    // the true sphere lies outside the full level's silhouette by up to (1 - cos(step / 2))
    // of its radius: impostors stand in for spheres small enough that this stays within
    // the level-of-detail bound (and for none when the material is flat-shaded)
    this.impostors = impostorMaxPx > 0 && !material.flatShading ? new Level(impostorShape(), 0, group, true) : null;
    this.impostorMaxPx = Math.min(impostorMaxPx,
      MAX_LOD_ERROR_PX / Math.max(1e-9, 1 - Math.cos(this.levels[0].step / 2)));
    // the unit shape's radius about its origin (bounds for culling)
    const p = this.levels[0].shape.attributes.position;
    let r2 = 0;
    for (let i = 0; i < p.count; i++) r2 = Math.max(r2, p.getX(i) ** 2 + p.getY(i) ** 2 + p.getZ(i) ** 2);
    this.radius = Math.sqrt(r2);
    const full = Math.cos(this.levels[0].step / 2);
    // how far a level's silhouette falls inside the full one's, per pixel of radius
    this.loss = this.levels.map((level) => full - Math.cos(level.step / 2));
  }

  // view (view.js): sorts the shown members' items into levels, culls those outside
  // the view, and writes every level's data.
  sync(view) {
    const w = world;
    for (const m of this.members) {
      if (!shown(m.holder, view.scene)) continue;
      const e = m.holder.matrixWorld.elements;
      const items = m.items;
      if (items) {
        const { local, rgb, drawn } = items;
        for (let i = 0; i < items.count; i++) {
          if (!drawn[i]) continue;
          affineProduct(e, local, 16 * i, w);
          this.place(view, w, rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]);
        }
      } else {
        const s = m.unitScale;
        for (let k = 0; k < 3; k++) {
          w[4 * k] = e[4 * k] * s[k]; w[4 * k + 1] = e[4 * k + 1] * s[k];
          w[4 * k + 2] = e[4 * k + 2] * s[k]; w[4 * k + 3] = e[4 * k + 3];
        }
        w[12] = e[12]; w[13] = e[13]; w[14] = e[14]; w[15] = e[15];
        this.place(view, w, m.color.r, m.color.g, m.color.b);
      }
    }
    for (const level of this.levels) level.write(this.material);
    this.impostors?.write(this.material);
  }

  // One item with world matrix `w` (unit scale included): culled, or staged in the
  // level (or as an impostor) its size on screen asks for.
  place(view, w, r, g, b) {
    const columns = placeColumns;
    for (let k = 0; k < 3; k++) columns[k] = Math.sqrt(w[4 * k] ** 2 + w[4 * k + 1] ** 2 + w[4 * k + 2] ** 2);
    sphere.center.set(w[12], w[13], w[14]);
    sphere.radius = this.radius * Math.max(columns[0], columns[1], columns[2]);
    if (!(sphere.radius >= 0) || !view.frustum.intersectsSphere(sphere)) return;
    let level = 0;
    if (this.levels.length > 1 || this.impostors) {
      let radius = 0;
      for (const k of this.round) radius = Math.max(radius, columns[k]);
      const px = radius * view.pxPerUnit(sphere.center);
      if (this.impostors && px <= this.impostorMaxPx && roundEnough(columns)
          && orthogonalAxes(w) && inside(view.frustum, sphere.center, sphere.radius)) {
        this.impostors.push(w, r, g, b);
        return;
      }
      while (level + 1 < this.levels.length && px * this.loss[level + 1] <= MAX_LOD_ERROR_PX) level++;
    }
    this.levels[level].push(w, r, g, b);
  }

  dispose() {
    for (const level of this.levels) level.dispose();
    this.impostors?.dispose();
    disposeMaterial(this.material);
  }
}

// An impostor's ray cast works in the ellipsoid's own frame, where a thin axis makes its
// numbers (1 / axis length) huge and float32 loses the hit: an ellipsoid flatter than
// this (rviz's flat covariance ellipses, 0.001 m thick) is drawn as a mesh.
const MAX_IMPOSTOR_FLATNESS = 16;

function roundEnough(columns) {
  const smallest = Math.min(columns[0], columns[1], columns[2]);
  return smallest > 0 && smallest * MAX_IMPOSTOR_FLATNESS >= Math.max(columns[0], columns[1], columns[2]);
}

// Whether a world matrix's axes are orthogonal (a rotation times a scale, no shear).
function orthogonalAxes(e) {
  const d01 = e[0] * e[4] + e[1] * e[5] + e[2] * e[6];
  const d02 = e[0] * e[8] + e[1] * e[9] + e[2] * e[10];
  const d12 = e[4] * e[8] + e[5] * e[9] + e[6] * e[10];
  const n0 = e[0] ** 2 + e[1] ** 2 + e[2] ** 2, n1 = e[4] ** 2 + e[5] ** 2 + e[6] ** 2;
  const n2 = e[8] ** 2 + e[9] ** 2 + e[10] ** 2;
  const tol = 1e-6;
  return d01 * d01 <= tol * n0 * n1 && d02 * d02 <= tol * n0 * n2 && d12 * d12 <= tol * n1 * n2;
}

// Drawn only when it and every ancestor are visible and it is in the scene.
function shown(object, scene) {
  for (let o = object; o; o = o.parent) {
    if (!o.visible) return false;
    if (o === scene) return true;
  }
  return false;
}

// The batches of one THREE.Scene. Members are plain objects: a node's
// { holder, unitScale: [x, y, z], color: THREE.Color (linear) }, or a list's
// { holder, items: {count, local: Float64Array (16 per item: its matrix in the holder,
// unit scale included, column-major), rgb: Float32Array (3 per item, linear),
// drawn: Uint8Array (1 per item, 0: not drawn)} }; the batch key names the unit
// shape and the material (everything but the colour).
export class Batches {
  // maxPointSize: the GL's largest point (ALIASED_POINT_SIZE_RANGE), for impostors
  constructor(maxPointSize = 1) {
    this.impostorMaxPx = impostorMaxRadiusPx(maxPointSize);
    this.group = new THREE.Group();
    this.group.name = 'vuer_ros batches';
    this.group.matrixAutoUpdate = false;
    this.batches = new Map(); // key -> Batch
  }

  // shape: {levels: [{make(), step}] full detail first, round: [axes]} (see Batch);
  // makeMaterial() is called only when the key has no batch yet.
  join(member, key, shape, makeMaterial) {
    let batch = this.batches.get(key);
    if (!batch) {
      batch = new Batch(shape.levels, shape.round ?? [], makeMaterial(), this.group,
        shape.impostors ? this.impostorMaxPx : 0);
      this.batches.set(key, batch);
    }
    member.batch = batch;
    batch.members.add(member);
  }

  leave(member) {
    if (!member?.batch) return;
    member.batch.members.delete(member);
    member.batch = null;
  }

  // Just before a render (view.js), after the scene's world matrices are current.
  // A batch left empty is kept a while (drawing nothing): markers cleared and sent
  // again (a DELETEALL, then the next array) find their chunks and shaders ready.
  sync(view) {
    const now = performance.now();
    for (const [key, batch] of this.batches) {
      if (batch.members.size > 0) batch.emptySince = null;
      else batch.emptySince ??= now;
      if (batch.emptySince !== null && now - batch.emptySince > KEEP_EMPTY_MS) {
        batch.dispose();
        this.batches.delete(key);
      } else {
        batch.sync(view);
      }
    }
  }
}
