// CubeList / SphereList (vuer_ros extension, rviz CUBE_LIST / SPHERE_LIST): one mesh
// and one draw call per list, never a mesh per item. Props: `positions` float32
// (3 per item), `scale` [x,y,z] size of every item (sphere diameters), optional
// per-item `scales` float32 (3 per item), `colors` uint8 (3 or 4 per item).
//
// Two strategies, measured on SwiftShader (2 cores, 640x480, 10,000 items):
// instanced drawing costs about 20 us per instance there, whatever the instance's
// size. A cube is 12 triangles, so an InstancedMesh of 10k cubes took ~230 ms a
// frame against ~60-90 ms for the same cubes as one plain mesh. So:
// - CubeList: one plain mesh of `capacity` unit cubes, each vertex tagged with its
//   item index; the vertex shader fetches the item's position, size and colour
//   from data textures ("vertex pulling"). An update re-uploads only the textures
//   (32 bytes + 4 per item), not the geometry.
// - SphereList: an InstancedMesh. A sphere has hundreds of triangles, so the
//   per-instance cost is small next to drawing it, and a pulled template of 10k
//   spheres would need ~60 MB of static vertices.
import * as THREE from 'three';
import { disposeMaterial, linearColors, makeMaterial, materialDefaults, withInstanceAlpha } from '../materials.js';
import { colorChannels, hasTranslucentAlpha, toColorBytes, toFloat32 } from '../packed.js';
import { DEFAULTS } from '../schema.generated.js';
import { Element, any } from './base.js';
import { ROW, dataTexture, itemTemplate } from '../pulled.js';

const ITEM_PROPS = ['positions', 'scale', 'scales', 'colors'];

function sizeOf(scale, fallback) {
  if (typeof scale === 'number') return [scale, scale, scale];
  if (Array.isArray(scale) && scale.length >= 3) return scale.slice(0, 3);
  return fallback;
}

// Parsed item props; `defaults`: the list tag's (DEFAULTS).
function items(props, defaults) {
  const positions = toFloat32(props.positions) ?? new Float32Array(0);
  const count = Math.floor(positions.length / 3);
  const colors = toColorBytes(props.colors);
  const channels = colorChannels(colors, count);
  const scales = toFloat32(props.scales);
  return {
    positions, count, colors, channels,
    translucent: hasTranslucentAlpha(colors, channels),
    size: sizeOf(props.scale, defaults.scale),
    scales: scales && scales.length >= count * 3 ? scales : null,
  };
}

// capacity with headroom: a list that grows a little does not rebuild every time
function capacityFor(count, current) {
  return Math.max(1, current && count > current ? Math.ceil(count * 1.25) : count);
}

// ---------------------------------------------------------------------------------
function cubeTemplate(capacity) {
  const box = new THREE.BoxGeometry(1, 1, 1);
  const geometry = itemTemplate(box, capacity);
  box.dispose();
  return geometry;
}

// The material's shader with the item fetch added (works for every built-in mesh material).
function pullItems(material, uniforms) {
  material.onBeforeCompile = (shader) => {
    Object.assign(shader.uniforms, uniforms);
    shader.vertexShader = shader.vertexShader
      .replace('#include <common>', `#include <common>
attribute float itemIndex;
uniform highp sampler2D itemData;   // per item: texel 2i = position, 2i+1 = size
uniform highp sampler2D itemColor;  // per item: linear rgb + alpha
varying vec4 vItemColor;
ivec2 itemTexel(int i) { return ivec2(i % ${ROW}, i / ${ROW}); }`)
      .replace('#include <begin_vertex>', `#include <begin_vertex>
int item = int(itemIndex + 0.5);
vec4 itemPosition = texelFetch(itemData, itemTexel(2 * item), 0);
vec4 itemSize = texelFetch(itemData, itemTexel(2 * item + 1), 0);
transformed = transformed * itemSize.xyz + itemPosition.xyz;  // box normals survive axis scaling
vItemColor = texelFetch(itemColor, itemTexel(item), 0);`);
    shader.fragmentShader = shader.fragmentShader
      .replace('#include <common>', '#include <common>\nvarying vec4 vItemColor;')
      .replace('#include <color_fragment>', '#include <color_fragment>\ndiffuseColor *= vItemColor;');
  };
  material.customProgramCacheKey = () => 'pulledItems';
  return material;
}

const CUBES = DEFAULTS.CubeList;
const CUBE_MATERIAL = materialDefaults(CUBES);

export class CubeList extends Element {
  static scaleIsTransform = false;

  update(props, changed) {
    const it = items(props, CUBES);
    const rebuild = !this.content || it.count > this.capacity;
    if (rebuild) {
      this.capacity = capacityFor(it.count, this.capacity);
      this.disposeTextures();
      this.uniforms = {
        itemData: { value: dataTexture(this.capacity * 2, Float32Array, THREE.NoColorSpace) },
        itemColor: { value: dataTexture(this.capacity, Uint8Array, THREE.SRGBColorSpace) },
      };
      const mesh = new THREE.Mesh(cubeTemplate(this.capacity), new THREE.MeshBasicMaterial());
      mesh.frustumCulled = false; // the template's bounds are not the items'
      this.setContent(mesh);
      changed = new Set([...ITEM_PROPS, 'material']);
    }
    const mesh = this.content;
    if (rebuild || any(changed, ['material', 'materialType']) || it.translucent !== this.translucent) {
      disposeMaterial(mesh.material);
      mesh.material = pullItems(makeMaterial(props, { ...CUBE_MATERIAL, transparent: it.translucent }), this.uniforms);
      this.translucent = it.translucent;
    }
    mesh.geometry.setDrawRange(0, it.count * mesh.geometry.userData.indicesPerItem);

    if (any(changed, ['positions', 'scale', 'scales'])) {
      const data = this.uniforms.itemData.value;
      const d = data.image.data;
      const [sx, sy, sz] = it.size;
      const p = it.positions;
      const s = it.scales;
      for (let i = 0; i < it.count; i++) {
        const o = i * 8, q = i * 3;
        d[o] = p[q]; d[o + 1] = p[q + 1]; d[o + 2] = p[q + 2];
        d[o + 4] = s ? s[q] : sx; d[o + 5] = s ? s[q + 1] : sy; d[o + 6] = s ? s[q + 2] : sz;
      }
      data.needsUpdate = true;
    }
    if (any(changed, ['colors', 'positions'])) {
      const texture = this.uniforms.itemColor.value;
      const c = texture.image.data;
      if (it.channels) {
        for (let i = 0; i < it.count; i++) {
          const o = i * 4, q = i * it.channels;
          c[o] = it.colors[q]; c[o + 1] = it.colors[q + 1]; c[o + 2] = it.colors[q + 2];
          c[o + 3] = it.channels === 4 ? it.colors[q + 3] : 255;
        }
      } else {
        c.fill(255); // no colours: the material colour alone
      }
      texture.needsUpdate = true;
    }
  }

  disposeTextures() {
    if (!this.uniforms) return;
    this.uniforms.itemData.value.dispose();
    this.uniforms.itemColor.value.dispose();
  }

  dispose() {
    this.disposeTextures();
    super.dispose();
  }
}

// ---------------------------------------------------------------------------------
const SPHERES = DEFAULTS.SphereList;
const SPHERE_MATERIAL = materialDefaults(SPHERES);

export class SphereList extends Element {
  static scaleIsTransform = false;

  update(props, changed) {
    const it = items(props, SPHERES);
    let mesh = this.content;
    const rebuild = !mesh || it.count > this.capacity || (it.channels > 0) !== this.hasColor
      || it.translucent !== this.translucent || any(changed, ['material', 'materialType']);
    if (rebuild) {
      const capacity = capacityFor(it.count, mesh ? this.capacity : 0);
      const material = makeMaterial(props, { ...SPHERE_MATERIAL, transparent: it.translucent });
      if (it.translucent) withInstanceAlpha(material);
      mesh = new THREE.InstancedMesh(new THREE.SphereGeometry(0.5, 16, 12), material, capacity);
      mesh.frustumCulled = false; // a NaN position would cull the whole list (see points.js)
      if (it.channels) mesh.instanceColor = new THREE.InstancedBufferAttribute(new Float32Array(capacity * 3), 3);
      if (it.translucent) {
        mesh.geometry.setAttribute('instanceAlpha', new THREE.InstancedBufferAttribute(new Float32Array(capacity).fill(1), 1));
      }
      this.capacity = capacity;
      this.hasColor = it.channels > 0;
      this.translucent = it.translucent;
      this.setContent(mesh);
      changed = new Set(ITEM_PROPS);
    }
    mesh.count = it.count;

    if (any(changed, ['positions', 'scale', 'scales'])) {
      const [sx, sy, sz] = it.size;
      const p = it.positions;
      const s = it.scales;
      const m = mesh.instanceMatrix.array;
      for (let i = 0; i < it.count; i++) {
        const o = i * 16, q = i * 3;
        m.fill(0, o, o + 16);
        m[o] = s ? s[q] : sx;
        m[o + 5] = s ? s[q + 1] : sy;
        m[o + 10] = s ? s[q + 2] : sz;
        m[o + 12] = p[q]; m[o + 13] = p[q + 1]; m[o + 14] = p[q + 2];
        m[o + 15] = 1;
      }
      mesh.instanceMatrix.needsUpdate = true;
    }
    if (it.channels && any(changed, ['colors', 'positions'])) {
      mesh.instanceColor.array.set(linearColors(it.colors, it.channels, it.count, 3));
      mesh.instanceColor.needsUpdate = true;
      if (it.translucent) {
        const alpha = mesh.geometry.getAttribute('instanceAlpha');
        for (let i = 0; i < it.count; i++) alpha.array[i] = it.colors[i * 4 + 3] / 255;
        alpha.needsUpdate = true;
      }
    }
  }
}
