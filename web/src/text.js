// The bundled font (three's Helvetiker, typeface.js form, imported as JSON by esbuild):
// text renders offline, with no font fetch at run time. Lengths here are in ems
// (generateShapes(text, 1) draws 1 em = 1 unit) until a size scales them.
import * as THREE from 'three';
import helvetiker from 'three/examples/fonts/helvetiker_regular.typeface.json';
import { FontLoader } from 'three/examples/jsm/loaders/FontLoader.js';

export const font = new FontLoader().parse(helvetiker);
const data = font.data;
const em = 1 / data.resolution;
// line advance, as FontLoader lays out '\n'
const LINE = (data.boundingBox.yMax - data.boundingBox.yMin + data.underlineThickness) * em;

// A character's glyph, as FontLoader picks it (a character the font lacks is drawn as '?').
export function glyphOf(char) {
  return data.glyphs[char] ?? data.glyphs['?'];
}

// The ink box of a glyph's outline as the triangulated text draws it
// ({minX, minY, maxX, maxY} in ems), or null for a glyph without ink (a space).
const boxes = new Map();
export function glyphBox(char) {
  const glyph = glyphOf(char);
  if (!boxes.has(glyph)) {
    const g = new THREE.ShapeGeometry(font.generateShapes(char, 1), 4);
    g.computeBoundingBox();
    const b = g.boundingBox;
    boxes.set(glyph, b.isEmpty() ? null : { minX: b.min.x, minY: b.min.y, maxX: b.max.x, maxY: b.max.y });
    g.dispose();
  }
  return boxes.get(glyph);
}

// cap height: the top of 'H' (ROS text size is the height of a capital letter)
export const CAP = glyphBox('H').maxY;

// Where FontLoader puts each character: [{char, x, y}] (the glyph origins, in ems).
function placements(text) {
  const out = [];
  let x = 0, y = 0;
  for (const char of Array.from(text)) {
    if (char === '\n') {
      x = 0;
      y -= LINE;
      continue;
    }
    out.push({ char, x, y });
    x += glyphOf(char).ha * em;
  }
  return out;
}

// The glyphs of `text` with capitals `size` high, placed by anchorX (left|center|right)
// and anchorY (top|middle|bottom; middle = the middle of the capitals, so one line of
// capitals is centred on the origin): {glyphs: [{char, x, y}], shift: [dx, dy], scale}
// where a glyph point p (ems, from its origin) lands at ((x + p + shift) * scale).
export function layout(text, size, anchorX = 'center', anchorY = 'middle') {
  const glyphs = placements(String(text));
  let minX = Infinity, maxX = -Infinity;
  for (const { char, x } of glyphs) {
    const box = glyphBox(char);
    if (!box) continue;
    minX = Math.min(minX, x + box.minX);
    maxX = Math.max(maxX, x + box.maxX);
  }
  if (minX > maxX) minX = maxX = 0;
  const top = CAP;
  const bottom = -(String(text).split('\n').length - 1) * LINE;
  const dx = anchorX === 'left' ? 0 : anchorX === 'right' ? -maxX : -(minX + maxX) / 2;
  const dy = anchorY === 'top' ? -top : anchorY === 'bottom' ? -bottom : -(top + bottom) / 2;
  return { glyphs, shift: [dx, dy], scale: size / CAP };
}

// Flat text in the local XY plane (facing +Z): the glyph outlines triangulated, with
// full detail (4 segments per curve).
export function textGeometry(text, size, anchorX, anchorY) {
  const { shift: [dx, dy], scale } = layout(text, size, anchorX, anchorY);
  const geometry = new THREE.ShapeGeometry(font.generateShapes(String(text), 1), 4);
  geometry.translate(dx, dy, 0);
  geometry.scale(scale, scale, scale);
  return geometry;
}
