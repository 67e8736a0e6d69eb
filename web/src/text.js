// The bundled font (three's Helvetiker, typeface.js form, imported as JSON by esbuild):
// text renders offline, with no font fetch at run time.
import * as THREE from 'three';
import helvetiker from 'three/examples/fonts/helvetiker_regular.typeface.json';
import { FontLoader } from 'three/examples/jsm/loaders/FontLoader.js';

const font = new FontLoader().parse(helvetiker);
const data = font.data;
// font units -> ems (generateShapes(text, 1) draws 1 em = 1 unit)
const em = 1 / data.resolution;
// cap height in ems: the top of 'H' (ROS text size is the height of a capital letter)
const CAP = (() => {
  const g = new THREE.ShapeGeometry(font.generateShapes('H', 1));
  g.computeBoundingBox();
  const h = g.boundingBox.max.y;
  g.dispose();
  return h;
})();
// line advance, as FontLoader lays out '\n'
const LINE = (data.boundingBox.yMax - data.boundingBox.yMin + data.underlineThickness) * em;

// Flat text geometry in the local XY plane (facing +Z), capitals `size` high, placed
// by anchorX (left|center|right) and anchorY (top|middle|bottom; middle = the middle
// of the capitals, so one line of capitals is centred on the origin). curveSegments:
// straight segments per glyph curve (4: full detail).
export function textGeometry(text, size, anchorX = 'center', anchorY = 'middle', curveSegments = 4) {
  const geometry = new THREE.ShapeGeometry(font.generateShapes(String(text), 1), curveSegments);
  geometry.computeBoundingBox();
  const box = geometry.boundingBox;
  const lines = String(text).split('\n').length;
  const top = CAP;
  const bottom = -(lines - 1) * LINE;
  const dx = anchorX === 'left' ? 0 : anchorX === 'right' ? -box.max.x : -(box.min.x + box.max.x) / 2;
  const dy = anchorY === 'top' ? -top : anchorY === 'bottom' ? -bottom : -(top + bottom) / 2;
  const s = size / CAP;
  geometry.translate(dx, dy, 0);
  geometry.scale(s, s, s);
  return geometry;
}

// Segments per glyph curve for capitals `capPx` pixels high: a bowl ("O") has a radius
// of about half the cap height, and n straight segments per quarter-circle curve fall
// short of it by r (1 - cos(pi / 4n)): at most about half a pixel with these.
export function curveSegmentsFor(capPx) {
  if (capPx <= 3.4) return 1;
  if (capPx <= 13) return 2;
  return 4;
}
