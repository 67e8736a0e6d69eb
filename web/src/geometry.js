// Buffer geometries from packed arrays. Streaming data (a point cloud at 10 Hz) mostly
// keeps its size, so when every array matches the current buffers in type and length
// the arrays are swapped in place (one bufferSubData each) instead of a new geometry.
import * as THREE from 'three';

// Bounds over the finite positions only: ROS clouds carry NaN points (rviz skips
// them), and three's own bounds would be NaN, which culls the whole object and logs
// an error on every update (three also needs bounds to sort objects).
function setFiniteBounds(geometry, positions) {
  let x0 = Infinity, y0 = Infinity, z0 = Infinity, x1 = -Infinity, y1 = -Infinity, z1 = -Infinity;
  for (let i = 0; i + 2 < positions.length; i += 3) {
    const x = positions[i], y = positions[i + 1], z = positions[i + 2];
    if (!(Number.isFinite(x) && Number.isFinite(y) && Number.isFinite(z))) continue;
    if (x < x0) x0 = x; if (x > x1) x1 = x;
    if (y < y0) y0 = y; if (y > y1) y1 = y;
    if (z < z0) z0 = z; if (z > z1) z1 = z;
  }
  if (x0 > x1) { x0 = y0 = z0 = x1 = y1 = z1 = 0; }
  geometry.boundingBox ??= new THREE.Box3();
  geometry.boundingBox.min.set(x0, y0, z0);
  geometry.boundingBox.max.set(x1, y1, z1);
  geometry.boundingSphere ??= new THREE.Sphere();
  geometry.boundingBox.getBoundingSphere(geometry.boundingSphere);
}

// attrs: {name: {array, itemSize, normalized}}; index: Uint32Array or null
function compatible(geometry, attrs, index) {
  if (!geometry) return false;
  const names = Object.keys(attrs);
  if (names.length !== Object.keys(geometry.attributes).length) return false;
  for (const name of names) {
    const cur = geometry.attributes[name];
    const next = attrs[name];
    if (!cur || cur.itemSize !== next.itemSize || cur.normalized !== !!next.normalized
        || cur.array.constructor !== next.array.constructor || cur.array.length !== next.array.length) return false;
  }
  const curIndex = geometry.index;
  if (!!curIndex !== !!index) return false;
  return !index || curIndex.array.length === index.length;
}

// Set `object.geometry` from the arrays; returns true when a new geometry was built.
export function setGeometry(object, attrs, index = null) {
  const old = object.geometry;
  if (compatible(old, attrs, index)) {
    for (const [name, { array }] of Object.entries(attrs)) {
      const attribute = old.attributes[name];
      attribute.array = array;
      attribute.needsUpdate = true;
    }
    if (index) { old.index.array = index; old.index.needsUpdate = true; }
    setFiniteBounds(old, attrs.position.array);
    return false;
  }
  const geometry = new THREE.BufferGeometry();
  for (const [name, { array, itemSize, normalized }] of Object.entries(attrs)) {
    geometry.setAttribute(name, new THREE.BufferAttribute(array, itemSize, !!normalized));
  }
  if (index) geometry.setIndex(new THREE.BufferAttribute(index, 1));
  setFiniteBounds(geometry, attrs.position.array);
  object.geometry = geometry;
  old?.dispose();
  return true;
}
