// Base class of the per-tag builders.
//
// Each scene node owns a THREE.Group (`holder`) that carries the node's transform and
// its child nodes. The element puts its visual (`content`) inside that group, so the
// visual and the children share the transform, and a tag change or a geometry rebuild
// swaps the content without touching the children.
import { disposeMaterial } from '../materials.js';

export class Element {
  // false where `scale` is not a transform (Arrow length, instance sizes)
  static scaleIsTransform = true;
  // lights are counted so the viewer can add default lights to a scene without any
  static isLight = false;

  constructor(holder, ctx) {
    this.holder = holder;
    this.ctx = ctx;
    this.content = null;
  }

  // props: the node's full props after the event; changed: Set of prop names the event set.
  update(props, changed) { } // eslint-disable-line no-unused-vars

  get key() { return this.holder.name; }

  setContent(object) {
    if (this.content === object) return;
    if (this.content) {
      this.holder.remove(this.content);
      disposeTree(this.content);
    }
    this.content = object;
    if (object) this.holder.add(object);
  }

  dispose() {
    this.setContent(null);
  }
}

// Free the GPU resources of an object tree (geometries, materials, textures, instance
// buffers). Shared resources are not expected: every element builds its own.
export function disposeTree(root) {
  root.traverse((obj) => {
    if (obj.isInstancedMesh) obj.dispose();
    if (obj.geometry) obj.geometry.dispose();
    if (obj.material) disposeMaterial(obj.material);
    if (obj.isLight && obj.dispose) obj.dispose();
  });
}

// Which changed props matter to a builder.
export function any(changed, names) {
  for (const n of names) if (changed.has(n)) return true;
  return false;
}
