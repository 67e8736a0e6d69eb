// MapTile (vuer_ros extension): a tile of an occupancy grid as rviz's Map display draws
// it (rviz_default_plugins swatch.cpp and the indexed_8bit_image shader): one quad over
// the tile's cells, an 8-bit texture of the cells' bytes (nearest: crisp squares), and
// each byte's colour fetched per pixel from a 256-entry palette texture. So a cell costs
// one byte on the wire and in GPU memory, and a tile whose cells change re-uploads its
// texture in place (three's texSubImage2D), nothing else.
//
// Placement: cell (i, j) of the tile covers [(x + i) r, (x + i + 1) r] x
// [(y + j) r, (y + j + 1) r] (r = resolution) in the node's XY plane, z = 0. The quad's
// corners are computed from the same integers in every tile, so neighbouring tiles share
// their edges exactly (no seam). Depth as rviz: a polygon offset of 16 units pushes the
// map behind what lies in its plane (the grid, markers on the floor); opaque (alpha
// from 0.9998, rviz's unit_alpha_threshold) it writes depth, translucent it blends and
// does not; `drawBehind` (rviz's Draw Behind) draws it first and writes no depth.
import * as THREE from 'three';
import { DEFAULTS } from '../schema.generated.js';
import { Element, any } from './base.js';

const D = DEFAULTS.MapTile;
const UNIT_ALPHA = 0.9998;
const BEHIND = -1e9; // renderOrder of Draw Behind: before everything in the opaque list
const PROPS = ['x', 'y', 'width', 'height', 'resolution', 'cells', 'palette', 'alpha', 'drawBehind'];

const vertexShader = /* glsl */`
varying vec2 vUv;
void main() {
  vUv = uv;
  gl_Position = projectionMatrix * modelViewMatrix * vec4(position, 1.0);
}`;

const fragmentShader = /* glsl */`
uniform sampler2D cells;    // R8: the cell's byte / 255 (levels: see levels())
uniform sampler2D palette;  // 256 x 1 sRGB RGBA: read as linear
uniform float alpha;
varying vec2 vUv;
void main() {
  float byte = floor(texture2D(cells, vUv).r * 255.0 + 0.5);
  vec4 c = texelFetch(palette, ivec2(int(byte), 0), 0);
  gl_FragColor = vec4(c.rgb, c.a * alpha);
  #include <colorspace_fragment>
}`;

function bytes(value, length) {
  const out = new Uint8Array(length);
  if (value instanceof Uint8Array) out.set(value.subarray(0, length));
  else if (Array.isArray(value)) out.set(value.slice(0, length));
  return out;
}

function int(value, fallback) {
  return Number.isInteger(value) && value >= 0 ? value : fallback;
}

function quad(x0, y0, x1, y1) {
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.BufferAttribute(
    new Float32Array([x0, y0, 0, x1, y0, 0, x1, y1, 0, x0, y1, 0]), 3));
  geometry.setAttribute('uv', new THREE.BufferAttribute(new Float32Array([0, 0, 1, 0, 1, 1, 0, 1]), 2));
  geometry.setIndex([0, 1, 2, 0, 2, 3]);
  geometry.computeBoundingSphere();
  return geometry;
}

// The cells and their smaller levels: level k holds every 2^k-th cell of every 2^k-th
// row (a cell's value, never an average of values: an average of free and unknown is
// no cell value at all). Where a cell covers under a pixel, nearest sampling of the
// full level picks an arbitrary cell per pixel anyway (rviz's too); picking it from a
// level of the right size reads memory in order, which SwiftShader draws faster: a
// 4,000 x 4,000 map filling a 640 x 480 view added 9-12 ms to a grab, 12-17 ms without
// the levels (a plain plane as large: 3-5 ms; bench/map_rate.py has the whole story).
function levels(data, width, height) {
  const out = [{ data, width, height }];
  let src = data, w = width, h = height;
  while (w > 1 || h > 1) {
    const nw = Math.max(1, w >> 1), nh = Math.max(1, h >> 1);
    const dst = new Uint8Array(nw * nh);
    const sx = w > 1 ? 2 : 1, sy = h > 1 ? 2 : 1;
    for (let j = 0; j < nh; j++) {
      const row = j * sy * w;
      for (let i = 0; i < nw; i++) dst[j * nw + i] = src[row + i * sx];
    }
    out.push({ data: dst, width: nw, height: nh });
    src = dst; w = nw; h = nh;
  }
  return out;
}

function cellTexture(data, width, height) {
  const texture = new THREE.DataTexture(null, width, height, THREE.RedFormat, THREE.UnsignedByteType);
  texture.mipmaps = levels(data, width, height);
  texture.magFilter = THREE.NearestFilter;
  texture.minFilter = THREE.NearestMipmapNearestFilter;
  texture.generateMipmaps = false;
  texture.unpackAlignment = 1;
  texture.needsUpdate = true;
  return texture;
}

function paletteTexture(data) {
  const texture = new THREE.DataTexture(data, 256, 1, THREE.RGBAFormat, THREE.UnsignedByteType);
  texture.minFilter = texture.magFilter = THREE.NearestFilter;
  texture.generateMipmaps = false;
  texture.colorSpace = THREE.SRGBColorSpace;
  texture.needsUpdate = true;
  return texture;
}

export class MapTile extends Element {
  update(props, changed) {
    const width = Math.max(1, int(props.width, D.width));
    const height = Math.max(1, int(props.height, D.height));
    const x = int(props.x, D.x), y = int(props.y, D.y);
    const r = typeof props.resolution === 'number' && props.resolution > 0 ? props.resolution : D.resolution;
    if (!this.content) {
      const material = new THREE.ShaderMaterial({
        vertexShader, fragmentShader, side: THREE.DoubleSide,
        polygonOffset: true, polygonOffsetFactor: 0, polygonOffsetUnits: 16,
        uniforms: { cells: { value: null }, palette: { value: null }, alpha: { value: 1 } },
      });
      this.setContent(new THREE.Mesh(new THREE.BufferGeometry(), material));
      changed = new Set(PROPS);
    }
    const mesh = this.content;
    const m = mesh.material;
    const u = m.uniforms;

    if (any(changed, ['x', 'y', 'width', 'height', 'resolution'])) {
      mesh.geometry.dispose();
      mesh.geometry = quad(x * r, y * r, (x + width) * r, (y + height) * r);
    }
    if (any(changed, ['cells', 'width', 'height'])) {
      const data = bytes(props.cells, width * height);
      const t = u.cells.value;
      if (t && t.image.width === width && t.image.height === height) {
        t.mipmaps = levels(data, width, height); // same size: re-uploaded in place
        t.needsUpdate = true;
      } else {
        t?.dispose();
        u.cells.value = cellTexture(data, width, height);
      }
    }
    if (any(changed, ['palette'])) {
      u.palette.value?.dispose();
      u.palette.value = paletteTexture(bytes(props.palette, 1024));
    }
    if (any(changed, ['alpha', 'drawBehind'])) {
      const alpha = typeof props.alpha === 'number' ? Math.min(1, Math.max(0, props.alpha)) : D.alpha;
      const opaque = alpha >= UNIT_ALPHA;
      const behind = props.drawBehind === true;
      u.alpha.value = alpha;
      m.depthWrite = opaque && !behind;
      if (behind) {
        // in the opaque list, which is drawn first, and first in it
        m.transparent = false;
        m.blending = opaque ? THREE.NoBlending : THREE.CustomBlending;
        m.blendSrc = THREE.SrcAlphaFactor;
        m.blendDst = THREE.OneMinusSrcAlphaFactor;
        m.blendSrcAlpha = THREE.OneFactor;
        m.blendDstAlpha = THREE.OneMinusSrcAlphaFactor;
        mesh.renderOrder = BEHIND;
      } else {
        m.transparent = !opaque;
        m.blending = THREE.NormalBlending;
        mesh.renderOrder = 0;
      }
      m.needsUpdate = true;
    }
  }

  dispose() {
    const u = this.content?.material.uniforms;
    u?.cells.value?.dispose();
    u?.palette.value?.dispose();
    super.dispose();
  }
}
