// Materials from the `material` / `materialType` props, and colour conversions.
//
// Colour pipeline: three's standard one (as Vuer's client uses, so a scene's light
// intensities look as their authors expect): colours are sRGB on the wire, lit in
// linear space, written as sRGB. Every wire colour (CSS, 0-1 arrays, uint8 per-vertex)
// means the sRGB value that an unlit surface shows in a grab: `#808080` and a vertex
// colour of 128 both come out as 128.
import * as THREE from 'three';

const TYPES = {
  basic: THREE.MeshBasicMaterial,
  lambert: THREE.MeshLambertMaterial,
  phong: THREE.MeshPhongMaterial,
  standard: THREE.MeshStandardMaterial,
  physical: THREE.MeshPhysicalMaterial,
  normal: THREE.MeshNormalMaterial,
  depth: THREE.MeshDepthMaterial,
  toon: THREE.MeshToonMaterial,
};

const SIDES = { front: THREE.FrontSide, back: THREE.BackSide, double: THREE.DoubleSide,
  frontside: THREE.FrontSide, backside: THREE.BackSide, doubleside: THREE.DoubleSide };

export function parseSide(side, fallback = THREE.FrontSide) {
  if (typeof side === 'number' && side >= 0 && side <= 2) return side;
  if (typeof side === 'string') return SIDES[side.toLowerCase()] ?? fallback;
  return fallback;
}

// CSS colour string, 0xRRGGBB number or [r, g, b] in 0-1. Returns a THREE.Color or null.
export function parseColor(value) {
  if (value == null) return null;
  if (value.isColor) return value.clone();
  const color = new THREE.Color();
  if (typeof value === 'number') return color.setHex(value);
  if (Array.isArray(value) && value.length >= 3) return color.setRGB(value[0], value[1], value[2], THREE.SRGBColorSpace);
  if (typeof value === 'string') {
    try { color.setStyle(value); return color; } catch { return null; }
  }
  return null;
}

// Numeric / boolean material fields passed through when the material has them.
const PASS_THROUGH = ['wireframe', 'depthTest', 'metalness', 'roughness', 'shininess', 'flatShading',
  'alphaTest', 'emissiveIntensity', 'reflectivity', 'clearcoat', 'fog', 'toneMapped', 'polygonOffset',
  'polygonOffsetFactor', 'polygonOffsetUnits', 'visible'];
const COLOR_FIELDS = ['color', 'emissive', 'specular'];

// uint8 sRGB -> linear 0-1, for per-vertex / per-instance colours
const LINEAR = new Float32Array(256).map((_, i) => {
  const c = i / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

// Per-item colour bytes (3 or 4 channels) -> Float32Array of `outChannels` linear
// values (alpha, when kept, stays linear: it is not a colour).
export function linearColors(bytes, channels, count, outChannels = channels) {
  const out = new Float32Array(count * outChannels);
  for (let i = 0; i < count; i++) {
    const s = i * channels, d = i * outChannels;
    out[d] = LINEAR[bytes[s]];
    out[d + 1] = LINEAR[bytes[s + 1]];
    out[d + 2] = LINEAR[bytes[s + 2]];
    if (outChannels === 4) out[d + 3] = channels === 4 ? bytes[s + 3] / 255 : 1;
  }
  return out;
}

// makeMaterial's `defaults` from a tag's schema defaults (DEFAULTS in schema.generated.js):
// its `materialType` and the colour and side of its default `material`.
export function materialDefaults(tagDefaults) {
  const spec = tagDefaults.material ?? {};
  const out = {};
  if (tagDefaults.materialType !== undefined) out.type = tagDefaults.materialType;
  if (spec.color !== undefined) out.color = spec.color;
  if (spec.side !== undefined) out.side = parseSide(spec.side);
  return out;
}

// Build a mesh material. `defaults` gives per-element defaults (type, side, colour).
export function makeMaterial(props, defaults = {}) {
  const spec = props.material && typeof props.material === 'object' ? props.material : {};
  const typeName = String(props.materialType ?? defaults.type ?? 'standard').toLowerCase();
  const Type = TYPES[typeName] ?? THREE.MeshStandardMaterial;
  const material = new Type();
  applyMaterialSpec(material, spec, defaults);
  return material;
}

export function applyMaterialSpec(material, spec, defaults = {}) {
  for (const name of COLOR_FIELDS) {
    const c = parseColor(spec[name] ?? (name === 'color' ? defaults.color : undefined));
    if (c && material[name]?.isColor) material[name].copy(c);
  }
  for (const name of PASS_THROUGH) {
    if (spec[name] !== undefined && name in material) material[name] = spec[name];
  }
  const opacity = Number(spec.opacity ?? defaults.opacity ?? 1);
  material.opacity = Number.isFinite(opacity) ? opacity : 1;
  // translucent unless said otherwise; like rviz, translucent surfaces do not write depth
  material.transparent = spec.transparent ?? (defaults.transparent || material.opacity < 1);
  material.depthWrite = spec.depthWrite ?? !material.transparent;
  material.side = parseSide(spec.side, defaults.side ?? THREE.FrontSide);
  if (defaults.vertexColors) material.vertexColors = true;
  material.needsUpdate = true;
}

// Material types whose shaders a batch can pull poses into (batches.js).
const BATCHABLE = new Set(['basic', 'lambert', 'phong', 'standard', 'physical', 'toon']);

// {key, color} when the node's material can be drawn in a batch: opaque, no
// wireframe; the key is everything but the colour, the colour is linear. Else null.
export function batchMaterial(props, defaults = {}) {
  const spec = props.material && typeof props.material === 'object' ? props.material : {};
  const typeName = String(props.materialType ?? defaults.type ?? 'standard').toLowerCase();
  if (!BATCHABLE.has(typeName)) return null;
  const opacity = Number(spec.opacity ?? defaults.opacity ?? 1);
  if (!(opacity >= 1) || spec.transparent === true || defaults.transparent || spec.wireframe) return null;
  const { color, ...rest } = spec;
  const parsed = parseColor(color ?? defaults.color) ?? new THREE.Color(1, 1, 1);
  return { key: JSON.stringify([typeName, rest, defaults.side ?? null]), color: parsed };
}

// Does the node set any material prop (so a model's own materials get replaced)?
export function hasMaterialProps(props) {
  return props.material != null || props.materialType != null;
}

// Per-instance alpha for an InstancedMesh with a built-in material: three's
// instanceColor is RGB only, so an `instanceAlpha` attribute is added to the shader.
export function withInstanceAlpha(material) {
  material.onBeforeCompile = (shader) => {
    shader.vertexShader = shader.vertexShader
      .replace('#include <common>', '#include <common>\nattribute float instanceAlpha;\nvarying float vInstanceAlpha;')
      .replace('#include <begin_vertex>', '#include <begin_vertex>\nvInstanceAlpha = instanceAlpha;');
    shader.fragmentShader = shader.fragmentShader
      .replace('#include <common>', '#include <common>\nvarying float vInstanceAlpha;')
      .replace('#include <color_fragment>', '#include <color_fragment>\ndiffuseColor.a *= vInstanceAlpha;');
  };
  material.customProgramCacheKey = () => 'instanceAlpha';
  return material;
}

// Free a material and the textures it holds, after the next render. A replaced
// marker's new material usually needs the same shader program as the old one;
// disposing the old one first frees that program and the next render compiles it
// again (20-40 ms per replaced marker on SwiftShader).
const pendingDisposal = new Set();

// The last freed material of each shader program is kept (not drawn, its textures
// freed) for this long, which keeps the program: a scene cleared and refilled (a
// DELETEALL, then the next array) does not compile its shaders again, which took
// most of the first grab of a 10,000-marker array after a clear (0.7 s on SwiftShader).
const KEEP_PROGRAM_MS = 20000;
const keepers = new Map(); // program -> {material, at}

export function disposeMaterial(material) {
  if (!material) return;
  for (const m of Array.isArray(material) ? material : [material]) pendingDisposal.add(m);
}

// Called after every render with the renderer that drew it.
export function flushDisposedMaterials(renderer) {
  const now = performance.now();
  const disposed = [...pendingDisposal];
  pendingDisposal.clear();
  for (const m of disposed) {
    for (const value of Object.values(m)) if (value?.isTexture) value.dispose();
    const program = renderer?.properties.get(m).currentProgram;
    if (!program) {
      m.dispose();
      continue;
    }
    const kept = keepers.get(program);
    if (kept && kept.material !== m) kept.material.dispose();
    keepers.set(program, { material: m, at: now });
  }
  for (const [program, kept] of keepers) {
    if (now - kept.at > KEEP_PROGRAM_MS) {
      kept.material.dispose();
      keepers.delete(program);
    }
  }
}
