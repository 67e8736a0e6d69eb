// Cloud (vuer_ros extension): a point cloud as rviz's PointCloud2 / LaserScan displays
// draw it (rviz_rendering's point cloud materials), in one draw call whatever its size.
//
// Props: `vertices` float32 (3 per point), `colors` uint8 (3 or 4 per point; absent:
// `color` for all), `style`, `size` (metres, or pixels with `units` 'pixels'), `alpha`.
// Styles, as rviz's shaders draw them:
// - Points: round dots `size` pixels across (rviz's circle sprite);
// - Squares: screen-facing squares `size` metres wide with rviz's rim (smooth_square:
//   the outer 5% blends towards the colour 0.2 darker, or lighter for dark colours);
// - Flat Squares: screen-facing squares, one flat colour;
// - Spheres: screen-facing discs, shaded from 1.0 in the centre to 0.8 at the rim;
// - Boxes: cubes along the cloud's axes, each face's colour times rviz's lightness
//   (+X 0.5, -X 1.0, +Y 0.6, -Y 0.4, +Z 0.9, -Z 0.6), with the rim.
// Three ways to draw, one draw call each:
// - opaque sprite styles (alpha 1, no per-point alpha; all but Boxes) are splatted:
//   projected in JavaScript before each render and written by one screen quad with
//   their depth (splat.js: on SwiftShader every point sprite costs its own set-up);
// - translucent sprite styles are one THREE.Points whose point size comes from the
//   projection (a screen-facing square of side s at view depth w covers
//   s * P[1][1] * H / 2 / w pixels, exactly the pinhole size), blended, no depth write;
// - Boxes are one draw of 36 vertices a point made from gl_VertexID, the positions
//   and colours fetched from data textures (no per-box geometry; SwiftShader pays per
//   instance, so not instancing). three compiles every ShaderMaterial as GLSL ES 3.00,
//   so gl_VertexID and texelFetch are there.
// Opaque clouds write depth; translucent ones blend without (rviz).
//
// Streaming: a splatted cloud is read where the message put it (its positions copied
// once into a kept buffer when their offset does not suit a Float32Array); the GL
// ways copy a new cloud of at most the current capacity into the existing buffers (one
// bufferSubData / texture upload of just its points); a bigger one grows the capacity
// by a fifth more than it needs, so clouds whose size wobbles (NaN points dropped) do
// not reallocate every message.
import * as THREE from 'three';
import { parseColor } from '../materials.js';
import { toFloat32 } from '../packed.js';
import { DEFAULTS } from '../schema.generated.js';
import { Splat } from '../splat.js';
import { Element, any } from './base.js';

const D = DEFAULTS.Cloud;
const SPRITES = { 'Points': 'ROUND', 'Squares': 'RIM', 'Flat Squares': 'FLAT', 'Spheres': 'SHADED' };
const TEX_WIDTH = 3072; // data textures: 1,024 points a row (3 floats each)

// Raw bytes of a packed prop (msgpack bin), or of a plain array made into `Type`.
function bytesOf(value, Type) {
  if (value instanceof Uint8Array) return value;
  if (Type === Float32Array) {
    const floats = toFloat32(value);
    return floats ? new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength) : null;
  }
  if (Array.isArray(value)) {
    const flat = Array.isArray(value[0]) ? value.flat() : value;
    return Uint8Array.from(flat, (c) => Math.max(0, Math.min(255, Math.round(c * 255))));
  }
  return null;
}

// Capacity for `count` items given the current one: kept while it fits and is not four
// times too big, else the count and a fifth more.
function capacityFor(count, current) {
  if (current && count <= current && count * 4 >= current) return current;
  return Math.max(1, Math.ceil(count * 1.2));
}

// Copy `bytes` into the start of typed array `into` (any element type).
function copyInto(into, bytes) {
  new Uint8Array(into.buffer, into.byteOffset, bytes.byteLength).set(bytes);
}

const COLOR_GLSL = /* glsl */`
uniform vec3 color;      // sRGB 0-1: the colour of every point without per-point colours
uniform float alpha;
// rviz's smooth_square.frag on sRGB colour values; ax, ay in [-0.5, 0.5]
vec3 rim(vec3 rgb, float ax, float ay) {
  float blend = smoothstep(-0.48, -0.45, ay) * (1.0 - smoothstep(0.45, 0.48, ay))
              * smoothstep(-0.48, -0.45, ax) * (1.0 - smoothstep(0.45, 0.48, ax));
  vec3 edge = rgb + sign(0.5 - length(rgb)) * vec3(0.2);
  return blend * rgb + (1.0 - blend) * edge;
}
// sRGB colour values (bytes / 255, as rviz computes with them) -> the pipeline's output
vec4 outColor(vec3 srgb, float a) {
  return vec4(sRGBTransferEOTF(vec4(clamp(srgb, 0.0, 1.0), 1.0)).rgb, a);
}`;

const spriteVertex = /* glsl */`
uniform float size;
uniform float viewportHeight;
#ifdef HAS_COLOR
attribute vec4 pcolor;  // uint8 normalized; 3-channel data reads with alpha 1
#endif
varying vec4 vColor;
void main() {
  vec4 mvPosition = modelViewMatrix * vec4(position, 1.0);
  gl_Position = projectionMatrix * mvPosition;
#ifdef PIXELS
  gl_PointSize = size;
#else
  gl_PointSize = max(1.0, size * projectionMatrix[1][1] * 0.5 * viewportHeight / gl_Position.w);
#endif
#ifdef HAS_COLOR
  vColor = pcolor;
#else
  vColor = vec4(1.0);
#endif
}`;

const spriteFragment = /* glsl */`
${COLOR_GLSL}
varying vec4 vColor;
void main() {
#ifdef HAS_COLOR
  vec3 rgb = vColor.rgb;
#else
  vec3 rgb = color;
#endif
  vec2 p = gl_PointCoord - 0.5;
#if defined(ROUND) || defined(SHADED)
  float r2 = dot(p, p);
  if (r2 > 0.25) discard;  // rviz's circle of radius 0.5
#endif
#ifdef SHADED
  rgb = mix(0.8 * rgb, rgb, (0.25 - r2) * 4.0);
#endif
#ifdef RIM
  rgb = rim(rgb, p.x, p.y);
#endif
  gl_FragColor = outColor(rgb, alpha * vColor.a);
  #include <colorspace_fragment>
}`;

const boxVertex = /* glsl */`
uniform highp sampler2D positions;  // R32F: x, y, z of point i at texels 3i .. 3i+2
#ifdef HAS_COLOR
uniform highp sampler2D pointColors; // R8: CHANNELS texels a point
#endif
#ifndef HAS_COLOR
uniform vec3 color;
#endif
uniform float size;
varying vec4 vColor;
varying vec2 vFace;
// faces +X -X +Y -Y +Z -Z: normal, and tangents u, v with u x v = normal (front faces CCW)
const vec3 N[6] = vec3[6](vec3(1,0,0), vec3(-1,0,0), vec3(0,1,0), vec3(0,-1,0), vec3(0,0,1), vec3(0,0,-1));
const vec3 U[6] = vec3[6](vec3(0,1,0), vec3(0,0,1), vec3(0,0,1), vec3(1,0,0), vec3(1,0,0), vec3(0,1,0));
const vec3 V[6] = vec3[6](vec3(0,0,1), vec3(0,1,0), vec3(1,0,0), vec3(0,0,1), vec3(0,1,0), vec3(1,0,0));
const float LIGHTNESS[6] = float[6](0.5, 1.0, 0.6, 0.4, 0.9, 0.6);  // rviz's box.geom
const vec2 CORNER[6] = vec2[6](vec2(-1,-1), vec2(1,-1), vec2(-1,1), vec2(-1,1), vec2(1,-1), vec2(1,1));
float fetch(highp sampler2D t, int i) { return texelFetch(t, ivec2(i % ${TEX_WIDTH}, i / ${TEX_WIDTH}), 0).r; }
void main() {
  int item = gl_VertexID / 36;
  int face = (gl_VertexID % 36) / 6;
  vec2 c = CORNER[gl_VertexID % 6];
  vec3 centre = vec3(fetch(positions, 3 * item), fetch(positions, 3 * item + 1), fetch(positions, 3 * item + 2));
  vec3 local = centre + 0.5 * size * (N[face] + c.x * U[face] + c.y * V[face]);
  gl_Position = projectionMatrix * modelViewMatrix * vec4(local, 1.0);
  vFace = 0.5 * c;
#ifdef HAS_COLOR
  vec4 rgba = vec4(fetch(pointColors, CHANNELS * item), fetch(pointColors, CHANNELS * item + 1),
                   fetch(pointColors, CHANNELS * item + 2), 1.0);
  if (CHANNELS == 4) rgba.a = fetch(pointColors, CHANNELS * item + 3);
#else
  vec4 rgba = vec4(color, 1.0);
#endif
  vColor = vec4(rgba.rgb * LIGHTNESS[face], rgba.a);
}`;

const boxFragment = /* glsl */`
${COLOR_GLSL}
varying vec4 vColor;
varying vec2 vFace;
void main() {
  gl_FragColor = outColor(rim(vColor.rgb, vFace.x, vFace.y), alpha * vColor.a);
  #include <colorspace_fragment>
}`;

const viewport = new THREE.Vector4();

function setViewport(renderer) {
  renderer.getCurrentViewport(viewport);
  this.material.uniforms.viewportHeight.value = viewport.w;
}

function dataTexture(texels, Type) {
  const rows = Math.max(1, Math.ceil(texels / TEX_WIDTH));
  const texture = new THREE.DataTexture(new Type(TEX_WIDTH * rows), TEX_WIDTH, rows, THREE.RedFormat,
    Type === Float32Array ? THREE.FloatType : THREE.UnsignedByteType);
  texture.internalFormat = Type === Float32Array ? 'R32F' : 'R8';
  texture.needsUpdate = true;
  return texture;
}

export class Cloud extends Element {
  static scaleIsTransform = true;

  update(props, changed) {
    const style = (SPRITES[props.style] || props.style === 'Boxes') ? props.style : D.style;
    const positions = bytesOf(props.vertices, Float32Array) ?? new Uint8Array(0);
    const count = Math.floor(positions.byteLength / 12);
    const colors = bytesOf(props.colors, Uint8Array);
    const channels = colors && count && (colors.length === 3 * count || colors.length === 4 * count)
      ? colors.length / count : 0;
    const alpha = Number.isFinite(props.alpha) ? props.alpha : D.alpha;
    const pixels = props.units === 'pixels';
    const size = Number.isFinite(props.size) ? props.size : D.size;
    const transparent = alpha < 1 || channels === 4;
    const round = style === 'Points' && (!pixels || size > 3); // a 3 px disc is a square
    // opaque sprites are splatted (splat.js); boxes and translucent clouds drawn by GL
    const mode = style === 'Boxes' ? 'boxes' : transparent ? 'sprites' : 'splat';

    const shape = [mode, style, pixels, channels, transparent, round].join('|');
    if (shape !== this.shape) {
      this.shape = shape;
      this.build(mode, style, pixels, channels, transparent, round);
      changed = new Set(['vertices', 'colors', 'size', 'color', 'alpha']);
    }
    // parseColor gives three's linear working colour; the looks are computed on sRGB values, as rviz
    const flat = (parseColor(props.color) ?? parseColor(D.color)).convertLinearToSRGB();
    if (mode === 'splat') {
      const splat = this.splat;
      if (any(changed, ['vertices', 'colors'])) this.fillSplat(positions, colors, count, channels);
      Object.assign(splat, { style, size, pixels });
      splat.flat = [flat.r, flat.g, flat.b].map((c) => Math.round(c * 255));
      splat.changed();
      return;
    }
    if (any(changed, ['vertices', 'colors'])) {
      if (mode === 'boxes') this.fillBoxes(positions, colors, count, channels);
      else this.fillSprites(positions, colors, count, channels);
    }
    const u = this.material.uniforms;
    u.size.value = size;
    u.alpha.value = alpha;
    u.color.value.copy(flat);
  }

  build(mode, style, pixels, channels, transparent, round) {
    this.disposeTextures();
    this.splat?.dispose();
    this.splat = null;
    this.capacity = 0;
    if (mode === 'splat') {
      this.splat = new Splat();
      this.material = this.splat.material;
      this.setContent(this.splat.mesh);
      return;
    }
    const defines = {};
    if (channels) defines.HAS_COLOR = '';
    if (pixels) defines.PIXELS = '';
    const uniforms = {
      size: { value: D.size }, alpha: { value: 1 },
      color: { value: new THREE.Color(1, 1, 1) },
    };
    let object;
    if (mode === 'boxes') {
      defines.CHANNELS = String(channels || 3);
      this.textures = {
        positions: dataTexture(3, Float32Array),
        colors: channels ? dataTexture(channels, Uint8Array) : null,
      };
      uniforms.positions = { value: this.textures.positions };
      if (channels) uniforms.pointColors = { value: this.textures.colors };
      this.material = new THREE.ShaderMaterial({
        vertexShader: boxVertex, fragmentShader: boxFragment, defines, uniforms,
      });
      object = new THREE.Mesh(new THREE.BufferGeometry(), this.material);
    } else {
      const sprite = SPRITES[style];
      if (sprite !== 'FLAT' && (sprite !== 'ROUND' || round)) defines[sprite] = '';
      uniforms.viewportHeight = { value: 1 };
      this.material = new THREE.ShaderMaterial({ vertexShader: spriteVertex, fragmentShader: spriteFragment, defines, uniforms });
      object = new THREE.Points(new THREE.BufferGeometry(), this.material);
      object.onBeforeRender = setViewport;
    }
    this.material.transparent = transparent;
    this.material.depthWrite = !transparent;
    object.frustumCulled = false; // bounds would cost a pass over every point
    this.setContent(object);
  }

  fillSprites(positions, colors, count, channels) {
    const points = this.content;
    let geometry = points.geometry;
    const capacity = capacityFor(count, this.capacity);
    if (capacity !== this.capacity) {
      geometry.dispose();
      geometry = new THREE.BufferGeometry();
      geometry.setAttribute('position', new THREE.BufferAttribute(new Float32Array(capacity * 3), 3));
      if (channels) {
        geometry.setAttribute('pcolor', new THREE.BufferAttribute(new Uint8Array(capacity * channels), channels, true));
      }
      // a fixed sphere: three sorts objects by it, and would otherwise compute it over every point
      geometry.boundingSphere = new THREE.Sphere(new THREE.Vector3(), Infinity);
      points.geometry = geometry;
      this.capacity = capacity;
    }
    const upload = (attribute, bytes, items) => {
      copyInto(attribute.array, bytes);
      attribute.clearUpdateRanges();
      attribute.addUpdateRange(0, items * attribute.itemSize);
      attribute.needsUpdate = true;
    };
    upload(geometry.attributes.position, positions, count);
    if (channels) upload(geometry.attributes.pcolor, colors, count);
    geometry.setDrawRange(0, count);
  }

  // The splat reads the message's bytes where they lie: colours always, positions when
  // their offset in the message suits a Float32Array (else one copy into a kept buffer).
  fillSplat(positions, colors, count, channels) {
    const splat = this.splat;
    if (positions.byteOffset % 4 === 0) {
      splat.positions = new Float32Array(positions.buffer, positions.byteOffset, count * 3);
    } else {
      const capacity = capacityFor(count, this.capacity);
      if (capacity !== this.capacity) {
        this.spare = new Float32Array(capacity * 3);
        this.capacity = capacity;
      }
      copyInto(this.spare, positions);
      splat.positions = this.spare;
    }
    splat.colors = channels ? colors : null;
    splat.channels = channels || 3;
    splat.count = count;
  }

  fillBoxes(positions, colors, count, channels) {
    const mesh = this.content;
    const capacity = capacityFor(count, this.capacity);
    const t = this.textures;
    if (capacity !== this.capacity) {
      t.positions.dispose();
      t.positions = dataTexture(capacity * 3, Float32Array);
      this.material.uniforms.positions.value = t.positions;
      if (channels) {
        t.colors.dispose();
        t.colors = dataTexture(capacity * channels, Uint8Array);
        this.material.uniforms.pointColors.value = t.colors;
      }
      this.capacity = capacity;
    }
    copyInto(t.positions.image.data, positions);
    t.positions.needsUpdate = true;
    if (channels) {
      copyInto(t.colors.image.data, colors);
      t.colors.needsUpdate = true;
    }
    mesh.geometry.setDrawRange(0, count * 36);
  }

  disposeTextures() {
    if (!this.textures) return;
    this.textures.positions.dispose();
    this.textures.colors?.dispose();
    this.textures = null;
  }

  dispose() {
    this.disposeTextures();
    this.splat?.dispose();
    this.splat = null;
    super.dispose();
  }
}
