// Solid primitives: `args` are the three.js geometry constructor arguments.
import * as THREE from 'three';
import { batchMaterial, disposeMaterial, makeMaterial, materialDefaults, parseColor } from '../materials.js';
import { DEFAULTS } from '../schema.generated.js';
import { Element, any } from './base.js';

const MATERIAL_PROPS = ['material', 'materialType'];

function numbers(args, defaults) {
  const a = Array.isArray(args) ? args : [];
  return defaults.map((d, i) => (typeof a[i] === 'number' && Number.isFinite(a[i]) ? a[i] : d));
}

// One mesh, or a slot in a batch (batches.js) when the shape reduces to a scaled unit
// shape and the material is opaque. The geometry is rebuilt when `args` change, the
// material when the material props do.
class MeshElement extends Element {
  static materialDefaults = {}; // each shape's: materialDefaults(DEFAULTS[tag])

  makeGeometry(args) { throw new Error(`makeGeometry(${args})`); }

  // {key, scale, levels, round}: the unit shape that, scaled by `scale`, is this
  // geometry, as levels of detail [{make(), step}] (full detail first; step: the angle
  // between neighbouring segments), and the axes its segments go round (radius 1);
  // null when there is none (negative sizes).
  unitShape(args) { return null; } // eslint-disable-line no-unused-vars

  update(props, changed) {
    const defaults = this.constructor.materialDefaults;
    const batches = this.ctx.batches;
    if (batches && (changed.has('args') || any(changed, MATERIAL_PROPS) || !this.built)) {
      this.built = true;
      const shape = this.unitShape(props.args);
      const material = shape && batchMaterial(props, defaults);
      if (shape && material) {
        this.joinBatch(batches, shape, material, props, defaults);
        return;
      }
      this.leaveBatch();
      this.geometryBuilt = this.materialBuilt = false;
    }
    if (this.member) return;
    if (!this.content) this.setContent(new THREE.Mesh());
    const mesh = this.content;
    if (changed.has('args') || !this.geometryBuilt) {
      mesh.geometry.dispose();
      mesh.geometry = this.makeGeometry(props.args);
      this.geometryBuilt = true;
    }
    if (any(changed, MATERIAL_PROPS) || !this.materialBuilt) {
      disposeMaterial(mesh.material);
      mesh.material = makeMaterial(props, defaults);
      this.materialBuilt = true;
    }
  }

  joinBatch(batches, shape, material, props, defaults) {
    this.setContent(null);
    const key = `${this.constructor.name}|${shape.key}|${material.key}`;
    if (this.member?.batch && this.memberKey === key) {
      this.member.unitScale = shape.scale;
      this.member.color = material.color;
      return;
    }
    this.leaveBatch();
    this.member = { holder: this.holder, unitScale: shape.scale, color: material.color, batch: null };
    this.memberKey = key;
    batches.join(this.member, key, shape, () => makeMaterial(whiteMaterial(props), { ...defaults, color: '#ffffff' }));
  }

  leaveBatch() {
    this.ctx.batches?.leave(this.member);
    this.member = null;
  }

  dispose() {
    this.leaveBatch();
    super.dispose();
  }
}

// the node's material props with the colour taken out (a batch colours per item)
function whiteMaterial(props) {
  const spec = props.material && typeof props.material === 'object' ? props.material : {};
  return { ...props, material: { ...spec, color: '#ffffff' } };
}

function nonNegative(...values) {
  return values.every((v) => v >= 0);
}

// Round shapes drawn small need fewer segments: full, half and a quarter of the
// segments (not below `least`), each with the angle between its segments, step(n)
// (batches.js picks the level by the item's size on screen).
function roundLevels(segments, least, make, step) {
  const levels = [];
  for (const f of [1, 2, 4]) {
    const n = f === 1 ? segments : Math.max(least, Math.round(segments / f));
    if (levels.length && n >= levels[levels.length - 1].n) continue;
    levels.push({ n, step: step(n), make: () => make(n) });
  }
  return levels;
}

export class Box extends MeshElement {
  static materialDefaults = materialDefaults(DEFAULTS.Box);
  makeGeometry(args) { return new THREE.BoxGeometry(...numbers(args, DEFAULTS.Box.args)); }

  unitShape(args) {
    const [w, h, d, ...segments] = numbers(args, DEFAULTS.Box.args);
    if (!nonNegative(w, h, d)) return null;
    const make = () => new THREE.BoxGeometry(1, 1, 1, ...segments);
    return { key: segments.join(), scale: [w, h, d], levels: [{ make, step: 0 }] };
  }
}

export class Sphere extends MeshElement {
  static materialDefaults = materialDefaults(DEFAULTS.Sphere);
  makeGeometry(args) { return new THREE.SphereGeometry(...numbers(args, DEFAULTS.Sphere.args)); }

  unitShape(args) {
    const [r, ws, hs, phiStart, phiLength, thetaStart, thetaLength] = numbers(args, DEFAULTS.Sphere.args);
    if (!nonNegative(r, ws, hs)) return null;
    // the height segments follow the width segments down in proportion (at least 4)
    const heightFor = (w) => (w === ws ? hs : Math.max(4, Math.round(hs * w / ws)));
    const levels = roundLevels(ws, 6,
      (w) => new THREE.SphereGeometry(1, w, heightFor(w), phiStart, phiLength, thetaStart, thetaLength),
      (w) => Math.max(phiLength / w, thetaLength / heightFor(w)));
    const whole = phiLength >= 2 * Math.PI && thetaStart <= 0 && thetaStart + thetaLength >= Math.PI;
    return { key: [ws, hs, phiStart, phiLength, thetaStart, thetaLength].join(), scale: [r, r, r], levels,
      round: [0, 1, 2], impostors: whole };
  }
}

export class Cylinder extends MeshElement {
  static materialDefaults = materialDefaults(DEFAULTS.Cylinder);
  makeGeometry(args) { return new THREE.CylinderGeometry(...numbers(args, DEFAULTS.Cylinder.args)); }

  unitShape(args) {
    const [top, bottom, h, radial] = numbers(args, DEFAULTS.Cylinder.args);
    const r = Math.max(top, bottom);
    if (!nonNegative(top, bottom, h, radial) || r === 0) return null;
    const t = top / r, b = bottom / r;
    return { key: `${t},${b},${radial}`, scale: [r, h, r],
      levels: roundLevels(radial, 6, (n) => new THREE.CylinderGeometry(t, b, 1, n), (n) => 2 * Math.PI / n), round: [0, 2] };
  }
}

export class Cone extends MeshElement {
  static materialDefaults = materialDefaults(DEFAULTS.Cone);
  makeGeometry(args) { return new THREE.ConeGeometry(...numbers(args, DEFAULTS.Cone.args)); }

  unitShape(args) {
    const [r, h, radial] = numbers(args, DEFAULTS.Cone.args);
    if (!nonNegative(r, h, radial)) return null;
    return { key: `${radial}`, scale: [r, h, r],
      levels: roundLevels(radial, 6, (n) => new THREE.ConeGeometry(1, 1, n), (n) => 2 * Math.PI / n), round: [0, 2] };
  }
}

export class Plane extends MeshElement {
  // a plane is seen from both sides unless the material says otherwise
  static materialDefaults = materialDefaults(DEFAULTS.Plane);
  makeGeometry(args) { return new THREE.PlaneGeometry(...numbers(args, DEFAULTS.Plane.args)); }

  unitShape(args) {
    const [w, h, ...segments] = numbers(args, DEFAULTS.Plane.args);
    if (!nonNegative(w, h)) return null;
    const make = () => new THREE.PlaneGeometry(1, 1, ...segments);
    return { key: segments.join(), scale: [w, h, 1], levels: [{ make, step: 0 }] };
  }
}

// Vuer's Arrow: from the origin along `direction`, `scale` long (not a transform scale),
// head sized by `headScale`, colour from material.color or `color`.
const ARROW = DEFAULTS.Arrow;

export class Arrow extends Element {
  static scaleIsTransform = false;

  update(props) {
    const length = typeof props.scale === 'number' ? props.scale : ARROW.scale;
    const headScale = typeof props.headScale === 'number' ? props.headScale : ARROW.headScale;
    const dir = new THREE.Vector3(...numbers(props.direction, ARROW.direction));
    if (dir.lengthSq() === 0) dir.set(...ARROW.direction);
    const headLength = Math.min(length, 0.25 * length * headScale);
    const headRadius = 0.1 * length * headScale;
    const shaftRadius = 0.04 * length;
    const shaftLength = length - headLength;

    const material = makeMaterial(props, { ...materialDefaults(ARROW), color: parseColor(props.color) ?? ARROW.material.color });
    const group = new THREE.Group();
    if (shaftLength > 0) {
      const shaft = new THREE.Mesh(new THREE.CylinderGeometry(shaftRadius, shaftRadius, shaftLength, 24), material);
      shaft.position.y = shaftLength / 2;
      group.add(shaft);
    }
    const head = new THREE.Mesh(new THREE.ConeGeometry(headRadius, headLength, 24), material.clone());
    head.position.y = shaftLength + headLength / 2;
    group.add(head);
    // built along +Y, turned onto `direction`
    group.quaternion.setFromUnitVectors(new THREE.Vector3(0, 1, 0), dir.normalize());
    this.setContent(group);
  }
}
