// "Vertex pulling": many copies of one small shape in a single plain mesh, each
// vertex tagged with its item's index; the vertex shader fetches the item's data
// (pose, size, colour) from a float data texture. On SwiftShader (the headless
// renderer) every draw call and every instance costs ~20 us whatever its size, so a
// thousand small solids as one pulled mesh draw several times faster than as a
// thousand meshes or an InstancedMesh (measured in lists.js and batches.js).
import * as THREE from 'three';

export const ROW = 1024; // data texture width in texels

// An RGBA data texture of at least `texels` texels, ROW wide.
export function dataTexture(texels, Type, colorSpace = THREE.NoColorSpace) {
  const rows = Math.max(1, Math.ceil(texels / ROW));
  const texture = new THREE.DataTexture(new Type(ROW * rows * 4), ROW, rows, THREE.RGBAFormat,
    Type === Float32Array ? THREE.FloatType : THREE.UnsignedByteType);
  texture.colorSpace = colorSpace; // sRGB colour bytes: the sampler returns linear values
  return texture;
}

// `capacity` copies of `shape` (an indexed or non-indexed BufferGeometry with position
// and normal) in one geometry; vertex attribute itemIndex says which copy.
export function itemTemplate(shape, capacity) {
  const src = shape.index ? shape : shape.clone();
  if (!src.index) {
    const n = src.attributes.position.count;
    src.setIndex([...Array(n).keys()]);
  }
  const sp = src.attributes.position.array;
  const sn = src.attributes.normal.array;
  const si = src.index.array;
  const nv = sp.length / 3;
  const position = new Float32Array(capacity * sp.length);
  const normal = new Float32Array(capacity * sn.length);
  const itemIndex = new Float32Array(capacity * nv);
  const index = new Uint32Array(capacity * si.length);
  for (let i = 0; i < capacity; i++) {
    position.set(sp, i * sp.length);
    normal.set(sn, i * sn.length);
    itemIndex.fill(i, i * nv, (i + 1) * nv);
    const base = i * si.length, offset = i * nv;
    for (let k = 0; k < si.length; k++) index[base + k] = si[k] + offset;
  }
  if (src !== shape) src.dispose();
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.BufferAttribute(position, 3));
  geometry.setAttribute('normal', new THREE.BufferAttribute(normal, 3));
  geometry.setAttribute('itemIndex', new THREE.BufferAttribute(itemIndex, 1));
  geometry.setIndex(new THREE.BufferAttribute(index, 1));
  geometry.userData.indicesPerItem = si.length;
  return geometry;
}
