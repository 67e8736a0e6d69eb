// Solid primitives: `args` are the three.js geometry constructor arguments.
import * as THREE from 'three';
import { makeMaterial, parseColor } from '../materials.js';
import { Element, any } from './base.js';

const MATERIAL_PROPS = ['material', 'materialType'];

function numbers(args, defaults) {
  const a = Array.isArray(args) ? args : [];
  return defaults.map((d, i) => (typeof a[i] === 'number' && Number.isFinite(a[i]) ? a[i] : d));
}

// One mesh; the geometry is rebuilt when `args` change, the material when the material props do.
class MeshElement extends Element {
  static materialDefaults = {};

  makeGeometry(args) { throw new Error(`makeGeometry(${args})`); }

  update(props, changed) {
    if (!this.content) this.setContent(new THREE.Mesh());
    const mesh = this.content;
    if (changed.has('args') || !this.geometryBuilt) {
      mesh.geometry.dispose();
      mesh.geometry = this.makeGeometry(props.args);
      this.geometryBuilt = true;
    }
    if (any(changed, MATERIAL_PROPS) || !this.materialBuilt) {
      mesh.material.dispose();
      mesh.material = makeMaterial(props, this.constructor.materialDefaults);
      this.materialBuilt = true;
    }
  }
}

export class Box extends MeshElement {
  makeGeometry(args) { return new THREE.BoxGeometry(...numbers(args, [1, 1, 1, 1, 1, 1])); }
}

export class Sphere extends MeshElement {
  makeGeometry(args) { return new THREE.SphereGeometry(...numbers(args, [1, 32, 16])); }
}

export class Cylinder extends MeshElement {
  makeGeometry(args) { return new THREE.CylinderGeometry(...numbers(args, [1, 1, 1, 32])); }
}

export class Cone extends MeshElement {
  makeGeometry(args) { return new THREE.ConeGeometry(...numbers(args, [1, 1, 32])); }
}

export class Plane extends MeshElement {
  // a plane is seen from both sides unless the material says otherwise
  static materialDefaults = { side: THREE.DoubleSide };
  makeGeometry(args) { return new THREE.PlaneGeometry(...numbers(args, [1, 1, 1, 1])); }
}

// Vuer's Arrow: from the origin along `direction`, `scale` long (not a transform scale),
// head sized by `headScale`, colour from `color` or material.color.
export class Arrow extends Element {
  static scaleIsTransform = false;

  update(props) {
    const length = typeof props.scale === 'number' ? props.scale : 1;
    const headScale = typeof props.headScale === 'number' ? props.headScale : 1;
    const dir = new THREE.Vector3(...numbers(props.direction, [1, 0, 0]));
    if (dir.lengthSq() === 0) dir.set(1, 0, 0);
    const headLength = Math.min(length, 0.25 * length * headScale);
    const headRadius = 0.1 * length * headScale;
    const shaftRadius = 0.04 * length;
    const shaftLength = length - headLength;

    const material = makeMaterial(props, { color: parseColor(props.color) ?? '#ffff00' });
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
