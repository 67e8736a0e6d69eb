// Packed array props. Bulk data arrives as msgpack `bin` values, which decode to
// Uint8Array views into the message buffer: possibly unaligned for a Float32Array,
// and keeping the whole message alive. So every typed array is made from a copy.
// Plain arrays ([[x,y,z],...] or flat) are accepted too.

function flatten(value) {
  return Array.isArray(value[0]) ? value.flat() : value;
}

function fromBytes(bytes, Type) {
  const n = Math.floor(bytes.byteLength / Type.BYTES_PER_ELEMENT);
  // slice() copies into a fresh, aligned ArrayBuffer
  return new Type(bytes.slice(0, n * Type.BYTES_PER_ELEMENT).buffer, 0, n);
}

function isBytes(value) {
  return value instanceof Uint8Array;
}

export function toFloat32(value) {
  if (value == null) return null;
  if (isBytes(value)) return fromBytes(value, Float32Array);
  if (value instanceof Float32Array) return value;
  if (Array.isArray(value)) return new Float32Array(flatten(value));
  return null;
}

export function toUint32(value) {
  if (value == null) return null;
  if (isBytes(value)) return fromBytes(value, Uint32Array);
  if (value instanceof Uint32Array) return value;
  if (Array.isArray(value)) return new Uint32Array(flatten(value));
  return null;
}

// Colours: uint8 bytes as sent, or 0-1 floats in plain arrays (scaled to bytes).
export function toColorBytes(value) {
  if (value == null) return null;
  if (isBytes(value)) return value.slice();
  if (Array.isArray(value)) {
    const flat = flatten(value);
    const out = new Uint8Array(flat.length);
    for (let i = 0; i < flat.length; i++) out[i] = Math.max(0, Math.min(255, Math.round(flat[i] * 255)));
    return out;
  }
  return null;
}

// How many channels a per-item colour array has (3 or 4), or 0 when it does not
// match the item count (rviz refuses such markers; here the colours are dropped).
export function colorChannels(colors, count) {
  if (!colors || count === 0) return 0;
  const c = colors.length / count;
  return c === 3 || c === 4 ? c : 0;
}

// True when a 4-channel colour array has any alpha below 255.
export function hasTranslucentAlpha(colors, channels) {
  if (channels !== 4) return false;
  for (let i = 3; i < colors.length; i += 4) if (colors[i] !== 255) return true;
  return false;
}
