// Splatting: an opaque point cloud rasterised by JavaScript, composited in one draw.
//
// On SwiftShader (the headless renderer) every point primitive costs its own set-up:
// a million 1-pixel sprites took 0.6-1.2 s to draw and 0.15 s just to transform, far
// from a 10 Hz lidar's budget. The same points projected and written here, in a plain
// loop over typed arrays, take a few tens of milliseconds. Before each render of the
// scene (the on-screen view and every grab, with their own cameras and sizes) the
// points are projected with the camera and the cloud's world matrix, each covering the
// pixels its sprite would (the same rule as GL's point rasterisation: pixel centres
// within the screen-facing square of `size` pixels, or `size` metres at its depth),
// nearest wins (GL's LEQUAL: a later point at equal depth replaces). The colour and
// window depth of those pixels go up as two textures, and one screen quad over their
// bounding box writes them with gl_FragDepth, so the cloud hides and is hidden by the
// rest of the scene exactly as drawn points would be, and depth grabs see it.
// Points outside the clip volume are dropped whole, as GL clips points by their
// centre.
//
// The looks are rviz's shaders written per pixel (see cloud.js): Points are discs,
// Squares have the rim, Spheres fade to 0.8 at the rim, Flat Squares are flat.
// Translucent clouds are not splatted (their blending needs draw order; cloud.js
// draws them as sprites).
import * as THREE from 'three';

const quadVertex = /* glsl */`
uniform vec4 rect;   // x0, y0, x1, y1 in normalised device coordinates
void main() {
  gl_Position = vec4(mix(rect.xy, rect.zw, position.xy * 0.5 + 0.5), 0.0, 1.0);
}`;

const quadFragment = /* glsl */`
uniform highp sampler2D splatColor;  // sRGB bytes; alpha 0 where no point landed
uniform highp sampler2D splatDepth;  // window depth of the nearest point
void main() {
  ivec2 px = ivec2(gl_FragCoord.xy);
  vec4 c = texelFetch(splatColor, px, 0);
  if (c.a == 0.0) discard;
  gl_FragDepth = texelFetch(splatDepth, px, 0).r;
  gl_FragColor = vec4(sRGBTransferEOTF(vec4(c.rgb, 1.0)).rgb, 1.0);
  #include <colorspace_fragment>
}`;

const viewport = new THREE.Vector4();
const mvp = new THREE.Matrix4();

// rviz's smooth_square.frag rim on one channel value c (0-1): blend from the point's
// colour to 0.2 darker (or lighter, for dark colours) in the outer few percent.
function smoothstep(e0, e1, x) {
  const t = Math.min(1, Math.max(0, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
}

// Sizes whose buffers are kept (the screen's and a grab size or two): switching between
// the screen and grabs neither reallocates nor re-splats what did not change.
const KEPT_SIZES = 3;

export class Splat {
  constructor() {
    this.material = new THREE.ShaderMaterial({
      vertexShader: quadVertex, fragmentShader: quadFragment,
      uniforms: { rect: { value: new THREE.Vector4() }, splatColor: { value: null }, splatDepth: { value: null } },
    });
    const geometry = new THREE.PlaneGeometry(2, 2);
    this.mesh = new THREE.Mesh(geometry, this.material);
    this.mesh.frustumCulled = false;
    this.mesh.onBeforeRender = (renderer, scene, camera) => this.draw(renderer, camera);
    // the cloud (set by cloud.js, which calls changed() after)
    this.positions = new Float32Array(0);
    this.colors = null;      // Uint8Array, `channels` bytes a point, or null: `flat` for all
    this.channels = 3;
    this.flat = [255, 255, 255];
    this.count = 0;
    this.style = 'Flat Squares';
    this.size = 0.01;
    this.pixels = false;
    this.version = 0;
    this.canvases = new Map();   // "WxH" -> the splat at that size
  }

  // The splat's buffers and textures for an image of W x H (made once per size).
  canvas(W, H) {
    const name = `${W}x${H}`;
    let c = this.canvases.get(name);
    if (c) {
      this.canvases.delete(name);   // most recent last
    } else {
      const rgba = new Uint8Array(W * H * 4);
      const depth = new Float32Array(W * H);
      const depthTexture = new THREE.DataTexture(depth, W, H, THREE.RedFormat, THREE.FloatType);
      depthTexture.internalFormat = 'R32F';
      c = { rgba32: new Uint32Array(rgba.buffer), depth, depthTexture, rect: new THREE.Vector4(),
        colorTexture: new THREE.DataTexture(rgba, W, H, THREE.RGBAFormat, THREE.UnsignedByteType),
        drawn: { version: -1, P11: 0, mvp: new Float64Array(16) } };
      if (this.canvases.size >= KEPT_SIZES) {
        const [oldest, old] = this.canvases.entries().next().value;
        this.canvases.delete(oldest);
        old.colorTexture.dispose();
        old.depthTexture.dispose();
      }
    }
    this.canvases.set(name, c);
    return c;
  }

  // The cloud changed (cloud.js calls this after changing positions, colours or looks).
  changed() {
    this.version++;
  }

  // Rasterise the cloud for this render (the current render target's viewport, `camera`);
  // nothing to do when neither the cloud nor the view changed since the last at this size.
  draw(renderer, camera) {
    renderer.getCurrentViewport(viewport);
    const W = viewport.z, H = viewport.w;
    const c = this.canvas(W, H);
    const u = this.material.uniforms;
    u.splatColor.value = c.colorTexture;
    u.splatDepth.value = c.depthTexture;
    u.rect.value = c.rect;
    mvp.multiplyMatrices(camera.projectionMatrix, camera.matrixWorldInverse).multiply(this.mesh.matrixWorld);
    const e = mvp.elements;
    const P11 = camera.projectionMatrix.elements[5];
    const key = c.drawn;
    if (key.version === this.version && key.P11 === P11 && e.every((v, i) => v === key.mvp[i])) return;
    key.version = this.version;
    key.P11 = P11;
    key.mvp.set(e);
    this.splat(c, e, P11, W, H);
    c.colorTexture.needsUpdate = true;
    c.depthTexture.needsUpdate = true;
  }

  splat(c, e, P11, W, H) {
    const rgba32 = c.rgba32, depth = c.depth;
    rgba32.fill(0);
    depth.fill(1);
    const pos = this.positions, colors = this.colors, channels = this.channels;
    const e0 = e[0], e1 = e[1], e2 = e[2], e3 = e[3], e4 = e[4], e5 = e[5], e6 = e[6], e7 = e[7];
    const e8 = e[8], e9 = e[9], e10 = e[10], e11 = e[11], e12 = e[12], e13 = e[13], e14 = e[14], e15 = e[15];
    const hw = 0.5 * W, hh = 0.5 * H;
    // a square of s metres at clip w spans s * P[1][1] * H / 2 / w pixels (the pinhole size)
    const perMetre = this.pixels ? 0 : this.size * P11 * hh;
    const fixedPx = Math.max(1, this.size);
    const shade = this.style === 'Flat Squares' ? 0 : this.style === 'Squares' ? 1
      : this.style === 'Spheres' ? 2 : (!this.pixels || this.size > 3) ? 3 : 0; // 3: round dots
    const [fr, fg, fb] = this.flat;
    const flat32 = (fr | (fg << 8) | (fb << 16) | 0xff000000) >>> 0;
    let minX = W, minY = H, maxX = -1, maxY = -1;
    const count = this.count;
    for (let i = 0, p = 0; i < count; i++, p += 3) {
      const x = pos[p], y = pos[p + 1], z = pos[p + 2];
      const w = e3 * x + e7 * y + e11 * z + e15;
      const cx = e0 * x + e4 * y + e8 * z + e12;
      if (!(cx >= -w && cx <= w)) continue;     // outside (or NaN): GL drops the whole point
      const cy = e1 * x + e5 * y + e9 * z + e13;
      if (!(cy >= -w && cy <= w)) continue;
      const cz = e2 * x + e6 * y + e10 * z + e14;
      if (!(cz >= -w && cz <= w)) continue;
      const inv = 1 / w;
      const sx = (cx * inv + 1) * hw, sy = (cy * inv + 1) * hh;
      const d = cz * inv * 0.5 + 0.5;
      let c32 = flat32;
      if (colors !== null) {
        const q = i * channels;
        c32 = (colors[q] | (colors[q + 1] << 8) | (colors[q + 2] << 16) | 0xff000000) >>> 0;
      }
      let s = perMetre ? perMetre * inv : fixedPx;
      if (s <= 1 && shade === 0) {
        // one pixel: the one whose centre is in [s - 0.5, s + 0.5) (most points of a big cloud)
        const ix = Math.ceil(sx) - 1, iy = Math.ceil(sy) - 1;
        if (ix < 0 || iy < 0) continue;
        const k = iy * W + ix;
        if (d <= depth[k]) {
          depth[k] = d;
          rgba32[k] = c32;
          if (ix < minX) minX = ix;
          if (ix > maxX) maxX = ix;
          if (iy < minY) minY = iy;
          if (iy > maxY) maxY = iy;
        }
        continue;
      }
      if (s < 1) s = 1;
      const half = 0.5 * s;
      // pixel centres (k + 0.5) in [centre - half, centre + half): half-open, as GL fills
      let x0 = Math.ceil(sx - half - 0.5), x1 = Math.ceil(sx + half - 0.5) - 1;
      let y0 = Math.ceil(sy - half - 0.5), y1 = Math.ceil(sy + half - 0.5) - 1;
      if (x0 < 0) x0 = 0;
      if (y0 < 0) y0 = 0;
      if (x1 >= W) x1 = W - 1;
      if (y1 >= H) y1 = H - 1;
      if (x0 > x1 || y0 > y1) continue;
      if (x0 < minX) minX = x0;
      if (x1 > maxX) maxX = x1;
      if (y0 < minY) minY = y0;
      if (y1 > maxY) maxY = y1;
      if (shade === 0) {
        for (let yy = y0; yy <= y1; yy++) {
          for (let k = yy * W + x0, end = yy * W + x1; k <= end; k++) {
            if (d <= depth[k]) { depth[k] = d; rgba32[k] = c32; }
          }
        }
        continue;
      }
      // shaded styles: gl_PointCoord - 0.5 of each pixel centre is (centre - s) / size
      const r = c32 & 255, g = (c32 >>> 8) & 255, b = (c32 >>> 16) & 255;
      const is = 1 / s;
      const dark = Math.sign(0.5 - Math.hypot(r, g, b) / 255) * 0.2;
      for (let yy = y0; yy <= y1; yy++) {
        const py = (yy + 0.5 - sy) * is;
        for (let xx = x0; xx <= x1; xx++) {
          const px = (xx + 0.5 - sx) * is;
          const k = yy * W + xx;
          if (!(d <= depth[k])) continue;
          let f = 1, rim = 0;
          if (shade === 1) {
            const blend = smoothstep(-0.48, -0.45, py) * (1 - smoothstep(0.45, 0.48, py))
              * smoothstep(-0.48, -0.45, px) * (1 - smoothstep(0.45, 0.48, px));
            if (blend < 1) rim = (1 - blend) * dark;
          } else {
            const r2 = px * px + py * py;
            if (r2 > 0.25) continue;
            if (shade === 2) f = 0.8 + 0.2 * (0.25 - r2) * 4;
          }
          depth[k] = d;
          rgba32[k] = (channel(r, f, rim) | (channel(g, f, rim) << 8) | (channel(b, f, rim) << 16)
            | 0xff000000) >>> 0;
        }
      }
    }
    if (maxX < 0) {
      c.rect.set(2, 2, 2, 2);   // nothing on screen: the quad covers no pixel
    } else {
      c.rect.set(2 * minX / W - 1, 2 * minY / H - 1, 2 * (maxX + 1) / W - 1, 2 * (maxY + 1) / H - 1);
    }
  }

  dispose() {
    for (const c of this.canvases.values()) {
      c.colorTexture.dispose();
      c.depthTexture.dispose();
    }
    this.canvases.clear();
    this.mesh.geometry.dispose();
    this.material.dispose();
  }
}

// One channel byte shaded as rviz's shaders do on 0-1 values: times f, plus the rim's shift.
function channel(byte, f, rim) {
  const v = (byte / 255) * f + rim;
  return v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
}
