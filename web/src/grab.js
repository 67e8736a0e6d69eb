// GRAB_RENDER: render a view into an offscreen target at the exact requested size and
// read it back in the same task (no cleared-buffer race, no canvas resize).
//
// The render and the readback are synchronous, so the event queue can move on at once;
// JPEG/PNG encoding then runs in the worker while later events are applied.
import * as THREE from 'three';
import { DepthReader } from './depth.js';
import { CAMERA_DEFAULTS } from './elements/cameras.js';
import { flushDisposedMaterials } from './materials.js';

const FORMATS = { jpeg: 'jpeg', jpg: 'jpeg', png: 'png', rgba: 'rgba' };
const LOAD_WAIT_MS = 2000;
const MAX_TARGETS = 4;

function positiveInt(value, name) {
  if (value == null) return null;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

function round(ms) {
  return Math.round(ms * 100) / 100;
}

function finite(value, fallback) {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

export class Grabber {
  constructor(viewer, graph, loads, encoder) {
    this.viewer = viewer;
    this.graph = graph;
    this.loads = loads;
    this.encoder = encoder;
    this.depth = new DepthReader(viewer.renderer);
    this.targets = new Map(); // "WxH[+depth]" -> WebGLRenderTarget, most recent last
    this.takeApplyMs = () => 0; // set by main.js: scene-apply time since the last grab
  }

  // reply(value) sends the response. Returns a promise only when the grab has to wait
  // for loading models, so the caller holds later events until the frame is taken.
  handle(request, reply) {
    if (this.loads.pending > 0) {
      return this.loads.whenIdle(LOAD_WAIT_MS).then(() => this.grab(request, reply));
    }
    this.grab(request, reply);
    return undefined;
  }

  grab(request, reply) {
    const t0 = request.receivedAt ?? performance.now();
    const started = performance.now();
    // where the browser's time went, for the sender's statistics (ms): waiting behind
    // earlier events, drawing + reading back, applying scene events since the last grab
    const timing = { queue: round(started - t0), render: 0, apply: round(this.takeApplyMs()) };
    const send = (value) => reply({ ...value, dpr: 1, delta: round(performance.now() - t0), timing });
    try {
      const options = request.data && typeof request.data === 'object' ? request.data : {};
      const format = FORMATS[String(options.format ?? 'jpeg').toLowerCase()];
      if (!format) throw new Error(`unknown format ${JSON.stringify(options.format)} (jpeg, png or rgba)`);
      const quality = Math.min(1, Math.max(0, finite(options.quality, 0.95)));
      const wantDepth = options.depth === true;

      // the scene as the server sent it, whatever this browser's panel shows (local-view.js)
      const asSent = this.viewer.local ? (fn) => this.viewer.local.asSent(fn) : (fn) => fn();
      const { width, height, pixels, depth } = asSent(() => {
        this.viewer.prepare(); // world matrices current, so a CameraView's pose is
        const view = this.view(request.key ?? 'DEFAULT', options);
        return { ...view, ...this.render(view.camera, view.width, view.height, wantDepth) };
      });
      timing.render = round(performance.now() - started);
      const value = { format, width, height };
      if (depth) value.depthFrame = depth;
      if (format === 'rgba') {
        send({ ...value, frame: pixels });
      } else {
        this.encoder.encode(pixels, width, height, format, quality).then(
          (frame) => send({ ...value, frame }),
          (err) => send({ error: `encoding ${format} failed: ${err?.message ?? err}` }));
      }
    } catch (err) {
      send({ error: String(err?.message ?? err) });
    }
  }

  // The camera and output size for a view key: DEFAULT (the user's camera, the canvas
  // size) or a CameraView (its pose in the world, its props), then the request's
  // width/height/downsample/camera overrides.
  view(key, options) {
    let width, height, fov, near, far;
    const pose = new THREE.Object3D();
    if (key === 'DEFAULT') {
      const base = this.viewer.camera;
      ({ fov, near, far } = base);
      width = this.viewer.width;
      height = this.viewer.height;
      pose.position.copy(base.position);
      pose.quaternion.copy(base.quaternion);
    } else {
      const rec = this.graph.get(key);
      if (!rec || rec.tag !== 'CameraView') throw new Error(`no CameraView with key ${JSON.stringify(key)}`);
      const p = rec.props;
      fov = finite(p.fov, CAMERA_DEFAULTS.fov);
      near = finite(p.near, CAMERA_DEFAULTS.near);
      far = finite(p.far, CAMERA_DEFAULTS.far);
      width = positiveInt(p.width, 'CameraView width') ?? CAMERA_DEFAULTS.width;
      height = positiveInt(p.height, 'CameraView height') ?? CAMERA_DEFAULTS.height;
      rec.holder.matrixWorld.decompose(pose.position, pose.quaternion, new THREE.Vector3());
    }
    width = positiveInt(options.width, 'width') ?? width;
    height = positiveInt(options.height, 'height') ?? height;
    const downsample = positiveInt(options.downsample, 'downsample') ?? 1;
    width = Math.max(1, Math.floor(width / downsample));
    height = Math.max(1, Math.floor(height / downsample));
    const max = this.viewer.renderer.capabilities.maxTextureSize;
    if (width > max || height > max) throw new Error(`${width}x${height} exceeds the maximum render size ${max}`);

    // a camera given with the request, in world coordinates, for this grab only
    const c = options.camera && typeof options.camera === 'object' ? options.camera : {};
    if (Array.isArray(c.position) && c.position.length === 3) pose.position.fromArray(c.position);
    if (Array.isArray(c.quaternion) && c.quaternion.length === 4) pose.quaternion.fromArray(c.quaternion).normalize();
    else if (Array.isArray(c.rotation) && c.rotation.length === 3) pose.quaternion.setFromEuler(new THREE.Euler(...c.rotation));
    fov = finite(c.fov, fov);
    near = finite(c.near, near);
    far = finite(c.far, far);

    const camera = new THREE.PerspectiveCamera(fov, width / height, near, far);
    camera.position.copy(pose.position);
    camera.quaternion.copy(pose.quaternion);
    camera.updateMatrixWorld();
    return { camera, width, height };
  }

  target(width, height, depth) {
    const name = `${width}x${height}${depth ? '+depth' : ''}`;
    let target = this.targets.get(name);
    if (target) {
      this.targets.delete(name); // re-insert as most recent
    } else {
      target = new THREE.WebGLRenderTarget(width, height, {
        depthBuffer: true, generateMipmaps: false, samples: 0,
        // a float depth texture (DEPTH_COMPONENT32F) for metric depth; else a plain renderbuffer
        depthTexture: depth ? new THREE.DepthTexture(width, height, THREE.FloatType) : null,
      });
      // stored as SRGB8_ALPHA8: the GPU encodes the linear shader output to sRGB on
      // write (three encodes in the shader only for the canvas), so a grab has the
      // same pixels as the screen
      target.texture.colorSpace = THREE.SRGBColorSpace;
      if (this.targets.size >= MAX_TARGETS) {
        const [oldest] = this.targets.keys();
        this.targets.get(oldest).dispose();
        this.targets.delete(oldest);
      }
    }
    this.targets.set(name, target);
    return target;
  }

  render(camera, width, height, wantDepth) {
    const renderer = this.viewer.renderer;
    const target = this.target(width, height, wantDepth);
    renderer.setRenderTarget(target);
    this.viewer.draw(camera, height);
    const pixels = new Uint8Array(width * height * 4);
    renderer.readRenderTargetPixels(target, 0, 0, width, height, pixels);
    const depth = wantDepth ? this.depth.read(target, camera, width, height) : null;
    renderer.setRenderTarget(null);
    flushDisposedMaterials(renderer);
    return { pixels, depth };
  }
}
