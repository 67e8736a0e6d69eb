// Text small on screen, drawn as one textured quad per glyph (two triangles, as
// rviz's MovableText draws text) instead of the glyph outlines triangulated (about 35
// triangles a glyph). Software GL pays per triangle, even for triangles off screen:
// the 143 number labels of a 1,000-marker array were a third of its grab.
//
// The atlas holds every glyph of the bundled font, capitals CAP_PX texels high, drawn
// once from the same outlines. It is sampled bilinearly, without mipmaps, and cut at
// coverage 0.5: a pixel is drawn when its centre falls inside the glyph, which is
// what rasterising the outline's triangles does (no antialiasing either way), so the
// two forms cover the same pixels. Text larger on screen than the atlas is drawn from
// its outlines: magnified, a bilinear cut would round the glyphs' corners.
import * as THREE from 'three';
import { CAP, font, glyphBox, glyphOf, layout } from './text.js';

export const CAP_PX = 48;
const TEXELS_PER_EM = CAP_PX / CAP;
// empty texels around each glyph's ink: bilinear samples at a quad's edge read only these
const PAD = 2;
const WIDTH = 2048;

let atlas = null;   // {texture, cells: Map(glyph -> {u0, v0, u1, v1})}, built on first use

// A glyph outline (typeface.js commands in font units) as a path in atlas texels,
// its ink box's top-left at (left, top). Curve order as FontLoader reads it.
function tracePath(ctx, glyph, box, left, top) {
  const s = TEXELS_PER_EM / font.data.resolution;
  const X = (v) => left + v * s - box.minX * TEXELS_PER_EM;
  const Y = (v) => top + box.maxY * TEXELS_PER_EM - v * s;
  const o = glyph.o.split(' ');
  for (let i = 0; i < o.length;) {
    const action = o[i++];
    if (action === 'm') ctx.moveTo(X(+o[i++]), Y(+o[i++]));
    else if (action === 'l') ctx.lineTo(X(+o[i++]), Y(+o[i++]));
    else if (action === 'q') {
      const x = X(+o[i++]), y = Y(+o[i++]), cx = X(+o[i++]), cy = Y(+o[i++]);
      ctx.quadraticCurveTo(cx, cy, x, y);
    } else if (action === 'b') {
      const x = X(+o[i++]), y = Y(+o[i++]), c1x = X(+o[i++]), c1y = Y(+o[i++]);
      const c2x = X(+o[i++]), c2y = Y(+o[i++]);
      ctx.bezierCurveTo(c1x, c1y, c2x, c2y, x, y);
    }
  }
}

function buildAtlas() {
  // shelf packing, every row as tall as the font's tallest glyph
  const rowHeight = Math.ceil((font.data.boundingBox.yMax - font.data.boundingBox.yMin)
    / font.data.resolution * TEXELS_PER_EM) + 2 * PAD;
  const placed = [];
  let x = 0, y = 0;
  for (const char of Object.keys(font.data.glyphs)) {
    const glyph = glyphOf(char), box = glyphBox(char);
    if (!box) continue;   // no ink (a space)
    const w = (box.maxX - box.minX) * TEXELS_PER_EM + 2 * PAD;
    const h = (box.maxY - box.minY) * TEXELS_PER_EM + 2 * PAD;
    if (x + w > WIDTH) { x = 0; y += rowHeight; }
    placed.push({ glyph, box, x, y, w, h });
    x = Math.ceil(x + w);
  }
  const height = y + rowHeight;
  const canvas = document.createElement('canvas');
  canvas.width = WIDTH;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, WIDTH, height);
  ctx.fillStyle = '#fff';
  const cells = new Map();
  for (const { glyph, box, x: left, y: top, w, h } of placed) {
    ctx.beginPath();
    tracePath(ctx, glyph, box, left + PAD, top + PAD);
    ctx.fill('nonzero');   // holes wind the other way, as three's ShapePath expects
    cells.set(glyph, { u0: left / WIDTH, v0: top / height, u1: (left + w) / WIDTH, v1: (top + h) / height });
  }
  const texture = new THREE.CanvasTexture(canvas);
  texture.flipY = false;   // v grows downwards, as canvas rows do
  texture.generateMipmaps = false;
  texture.minFilter = THREE.LinearFilter;
  texture.magFilter = THREE.LinearFilter;
  return { texture, cells };
}

function theAtlas() {
  atlas ??= buildAtlas();
  return atlas;
}

// Flat text in the local XY plane (facing +Z), laid out as textGeometry lays it out:
// one quad per inked glyph, its ink box grown by PAD texels, with atlas UVs, appended
// to the plain arrays `out` ({position, uv, index}); returns the quads added.
export function pushGlyphQuads(out, text, size, anchorX, anchorY) {
  const { cells } = theAtlas();
  const { glyphs, shift: [dx, dy], scale } = layout(text, size, anchorX, anchorY);
  const pad = PAD / TEXELS_PER_EM;
  const { position, uv, index } = out;
  let quads = 0;
  for (const { char, x, y } of glyphs) {
    const cell = cells.get(glyphOf(char));
    if (!cell) continue;   // no ink
    const box = glyphBox(char);
    const x0 = (x + box.minX - pad + dx) * scale, x1 = (x + box.maxX + pad + dx) * scale;
    const y0 = (y + box.minY - pad + dy) * scale, y1 = (y + box.maxY + pad + dy) * scale;
    const n = position.length / 3;
    position.push(x0, y0, 0, x1, y0, 0, x1, y1, 0, x0, y1, 0);
    uv.push(cell.u0, cell.v1, cell.u1, cell.v1, cell.u1, cell.v0, cell.u0, cell.v0);
    index.push(n, n + 1, n + 2, n, n + 2, n + 3);
    quads++;
  }
  return quads;
}

// The glyph quads of one text as a geometry (see pushGlyphQuads).
export function glyphQuads(text, size, anchorX, anchorY) {
  const out = { position: [], uv: [], index: [] };
  pushGlyphQuads(out, text, size, anchorX, anchorY);
  const { position, uv, index } = out;
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.Float32BufferAttribute(position, 3));
  geometry.setAttribute('normal', new THREE.Float32BufferAttribute(position.map((_, i) => (i % 3 === 2 ? 1 : 0)), 3));
  geometry.setAttribute('uv', new THREE.Float32BufferAttribute(uv, 2));
  geometry.setIndex(index);
  return geometry;
}

// `material` (any mesh material) cutting its fragments to the glyphs in the atlas.
// The atlas is a shader uniform, not a material map, so disposing the material (and
// the textures it holds) leaves the shared atlas alone.
export function glyphMaterial(material) {
  const glyphs = material.clone();
  const texture = theAtlas().texture;
  glyphs.onBeforeCompile = (shader) => {
    shader.uniforms.glyphAtlas = { value: texture };
    shader.vertexShader = shader.vertexShader
      .replace('#include <common>', '#include <common>\nvarying vec2 vGlyphUv;')
      .replace('#include <begin_vertex>', '#include <begin_vertex>\nvGlyphUv = uv;');
    shader.fragmentShader = shader.fragmentShader
      .replace('#include <common>', '#include <common>\nuniform sampler2D glyphAtlas;\nvarying vec2 vGlyphUv;')
      .replace('#include <alphamap_fragment>',
        '#include <alphamap_fragment>\nif (texture2D(glyphAtlas, vGlyphUv).g < 0.5) discard;');
  };
  glyphs.customProgramCacheKey = () => 'glyphAtlas';
  return glyphs;
}
