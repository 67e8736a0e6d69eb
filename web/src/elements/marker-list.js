// MarkerList (vuer_ros extension, vuer_ros/scene/marker_list.py): many rviz markers of
// one namespace and type as one node. Item i has a pose (`poses`, in this node's frame),
// a scale and a colour; it is drawn as each of `parts` (a Box, Sphere, Cylinder or Cone
// placed and sized by 3x3 matrices times the item's scale; or a billboard Text, its
// string from `texts`), exactly as that marker's own nodes would be: the same batched
// solids (batches.js), each part of all the items one member of its batch; the labels
// as one mesh (labels.js). No scene node and no THREE object per item: a
// 10,000-marker array is applied in a few milliseconds.
import * as THREE from 'three';
import { batchMaterial, linearColors, makeMaterial, materialDefaults } from '../materials.js';
import { toFloat32 } from '../packed.js';
import { DEFAULTS } from '../schema.generated.js';
import { Labels } from '../labels.js';
import { Element, any } from './base.js';
import { Box, Cone, Cylinder, Sphere } from './primitives.js';

const SOLIDS = { Box, Sphere, Cylinder, Cone };
// the parts' material apart from the colour, which each item has (as a marker's own
// solids carry it: colour, opacity 1, not transparent)
const OPAQUE = { color: '#ffffff', opacity: 1, transparent: false };

function toFloat64(value) {
  if (!(value instanceof Uint8Array)) return new Float64Array(0);
  const n = Math.floor(value.byteLength / 8);
  return new Float64Array(value.slice(0, n * 8).buffer, 0, n);
}

const itemMatrix = new THREE.Matrix4();
const partMatrix = new THREE.Matrix4();
const position = new THREE.Vector3();
const rotation = new THREE.Quaternion();
const size = new THREE.Vector3();

// 3x3 row-major matrix `m` times the vector s -> out (a Vector3)
function linear(m, s, out) {
  const v = Array.isArray(m) && m.length === 9 ? m : [0, 0, 0, 0, 0, 0, 0, 0, 0];
  return out.set(v[0] * s[0] + v[1] * s[1] + v[2] * s[2], v[3] * s[0] + v[4] * s[1] + v[5] * s[2],
    v[6] * s[0] + v[7] * s[1] + v[8] * s[2]);
}

export class MarkerList extends Element {
  update(props, changed) {
    // a strict UPSERT (the list rebuilt) restates the parts: remade only if they differ
    const partsKey = JSON.stringify(props.parts ?? []);
    if (partsKey !== this.partsKey) {
      this.partsKey = partsKey;
      this.makeParts(props.parts);
      changed = new Set([...changed, 'parts']);
    } else if (changed.has('parts')) {
      changed = new Set(changed);
      changed.delete('parts');
    }
    const poses = any(changed, ['poses']) || !this.poses ? toFloat64(props.poses) : this.poses;
    const count = Math.floor(poses.length / 7);
    const resized = count !== this.count;
    this.poses = poses;
    this.count = count;
    if (resized || any(changed, ['scales', 'parts', 'poses'])) {
      const scales = toFloat32(props.scales);
      for (const part of this.parts) this.placePart(part, scales);
    }
    if (resized || any(changed, ['colors', 'parts'])) {
      const c = props.colors instanceof Uint8Array && props.colors.length >= 4 * count
        ? props.colors : new Uint8Array(4 * count).fill(255);
      const rgb = linearColors(c, 4, count, 3);
      const drawn = new Uint8Array(count);
      for (let i = 0; i < count; i++) drawn[i] = c[4 * i + 3] > 0 ? 1 : 0;   // alpha 0: not drawn
      for (const part of this.parts) {
        part.member.items.rgb = rgb;
        part.member.items.drawn = drawn;
      }
    }
    for (const part of this.parts) part.member.items.count = count;
    if (this.labels) this.updateLabels(props, changed, resized);
  }

  updateLabels(props, changed, resized) {
    const spec = this.labelSpec;
    if (resized || any(changed, ['texts', 'scales', 'parts'])) {
      const scales = toFloat32(props.scales);
      const row = Array.isArray(spec.fontSize) && spec.fontSize.length === 3 ? spec.fontSize : [0, 0, 1];
      const sizes = new Float64Array(this.count);
      for (let i = 0; i < this.count; i++) {
        sizes[i] = scales && scales.length >= 3 * (i + 1)
          ? row[0] * scales[3 * i] + row[1] * scales[3 * i + 1] + row[2] * scales[3 * i + 2] : row[2];
      }
      const texts = Array.isArray(props.texts) ? props.texts : [];
      this.labels.setGlyphs(texts, sizes, spec.anchorX ?? 'center', spec.anchorY ?? 'middle');
    }
    const c = props.colors instanceof Uint8Array && props.colors.length >= 4 * this.count
      ? props.colors : new Uint8Array(4 * this.count).fill(255);
    const drawn = new Uint8Array(this.count);
    for (let i = 0; i < this.count; i++) drawn[i] = c[4 * i + 3] > 0 ? 1 : 0;
    this.labels.setItems(this.poses, linearColors(c, 4, this.count, 3), drawn);
  }

  beforeView(view) {
    this.labels?.beforeView(view);
  }

  // One batch member per part that draws in a batch (a part that cannot is skipped,
  // with one warning).
  makeParts(parts) {
    this.leave();
    this.parts = [];
    const batches = this.ctx.batches;
    for (const spec of Array.isArray(parts) ? parts : []) {
      if (spec?.tag === 'Text' && !this.labels) {
        this.labelSpec = spec;
        this.labels = new Labels(this.holder, makeMaterial({ material: OPAQUE, materialType: spec.materialType ?? 'basic' },
          materialDefaults(DEFAULTS.Text)));
        this.ctx.viewDependent?.add(this);
        continue;
      }
      const Type = SOLIDS[spec?.tag];
      const shape = Type?.prototype.unitShape(spec.args);
      const defaults = Type && materialDefaults(DEFAULTS[spec.tag]);
      const material = shape && batchMaterial({ material: OPAQUE, materialType: spec.materialType }, defaults);
      if (!batches || !material) {
        this.ctx.warn?.(`MarkerList ${this.key}: part ${JSON.stringify(spec)} cannot be drawn`);
        continue;
      }
      const member = { holder: this.holder, items: { count: 0, local: new Float64Array(0), rgb: new Float32Array(0),
        drawn: new Uint8Array(0) }, batch: null };
      const q = spec.quaternion;
      const part = { spec, shape, member,
        rotation: Array.isArray(q) && q.length === 4 ? new THREE.Quaternion(...q).normalize() : new THREE.Quaternion() };
      batches.join(member, `${Type.name}|${shape.key}|${material.key}`, shape,
        () => makeMaterial({ material: OPAQUE, materialType: spec.materialType }, defaults));
      this.parts.push(part);
    }
  }

  // Each item's matrix for one part, in this node's frame: the item's pose, then the
  // part's place, turn and size (times the item's scale), then the unit shape's scale.
  placePart(part, scales) {
    const n = this.count;
    const items = part.member.items;
    if (items.local.length !== 16 * n) items.local = new Float64Array(16 * n);
    const local = items.local;
    const p = this.poses;
    const [ux, uy, uz] = part.shape.scale;
    const s = [1, 1, 1];
    for (let i = 0; i < n; i++) {
      const o = 7 * i;
      if (scales && scales.length >= 3 * (i + 1)) { s[0] = scales[3 * i]; s[1] = scales[3 * i + 1]; s[2] = scales[3 * i + 2]; }
      position.set(p[o], p[o + 1], p[o + 2]);
      rotation.set(p[o + 3], p[o + 4], p[o + 5], p[o + 6]);
      if (rotation.lengthSq() === 0) rotation.identity(); else rotation.normalize();
      itemMatrix.compose(position, rotation, size.set(1, 1, 1));
      linear(part.spec.scale, s, size);
      size.x *= ux; size.y *= uy; size.z *= uz;
      partMatrix.compose(linear(part.spec.position, s, position), part.rotation, size);
      itemMatrix.multiply(partMatrix);
      local.set(itemMatrix.elements, 16 * i);
    }
  }

  leave() {
    for (const part of this.parts ?? []) this.ctx.batches?.leave(part.member);
    this.parts = [];
    if (this.labels) {
      this.ctx.viewDependent?.delete(this);
      this.labels.dispose();
      this.labels = null;
    }
  }

  dispose() {
    this.leave();
    super.dispose();
  }
}
