// The renderer, the THREE.Scene, the user's camera, and drawing on demand.
//
// No busy loop: a frame is drawn (on the next animation frame) only after something
// changed — an event, a camera move, a resize, a model that finished loading. On a
// 2-core software-GL machine an idle rAF loop would cost a core.
//
// The headless renderer's canvas is seen by nobody (grabs render offscreen), yet
// redrawing it after every update halved the update+grab loop rate (27 -> 57 fps
// without it, 640x480). There it is redrawn at most once a second, so a page
// screenshot taken for debugging is at most that stale.
//
// In an immersive (WebXR) session the headset's frame loop draws every frame instead
// (xr.js); on-demand drawing pauses until it ends.
import * as THREE from 'three';
import { Batches } from './batches.js';
import { flushDisposedMaterials, parseColor } from './materials.js';
import { DEFAULTS } from './schema.generated.js';
import { viewOf } from './view.js';

export const DEFAULT_BACKGROUND = DEFAULTS.Scene.background; // rviz's (48, 48, 48)

export class Viewer {
  constructor(container, { headless = false } = {}) {
    // antialias off and pixel ratio 1: the grab-rate budget (notes/headless-rendering.md),
    // and pixels that match the pinhole model exactly
    this.renderer = new THREE.WebGLRenderer({ antialias: false, alpha: false, powerPreference: 'high-performance' });
    this.renderer.setPixelRatio(1);
    this.renderer.outputColorSpace = THREE.SRGBColorSpace; // see materials.js
    container.appendChild(this.renderer.domElement);

    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(DEFAULT_BACKGROUND);
    // prepare() brings the world matrices up to date once per render; three would
    // walk the whole graph a second time inside render() (thousands of marker groups)
    this.scene.matrixWorldAutoUpdate = false;
    this.content = new THREE.Group(); // the scene graph's root node goes here
    this.scene.add(this.content);
    const gl = this.renderer.getContext();
    // small solids drawn together (batches.js)
    this.batches = new Batches(gl.getParameter(gl.ALIASED_POINT_SIZE_RANGE)[1]);
    this.scene.add(this.batches.group);
    this.viewDependent = new Set(); // elements with beforeView(view): detail by size on screen

    this.camera = new THREE.PerspectiveCamera(50, 1, 0.01, 1000);
    this.camera.up.set(0, 0, 1);
    this.camera.position.set(-3, -3, 2.5);
    this.camera.lookAt(0, 0, 0);

    // used only while the scene has no light nodes, so a bare Scene is not black
    this.defaultLights = new THREE.Group();
    this.defaultHemisphere = new THREE.HemisphereLight(0xffffff, 0x444444, 1.0);
    this.defaultSun = new THREE.DirectionalLight(0xffffff, 1.2);
    this.defaultLights.add(this.defaultHemisphere, this.defaultSun);
    this.scene.add(this.defaultLights);
    this.setUp(new THREE.Vector3(0, 0, 1));

    this.hasLights = () => true;
    // what this browser alone shows (local-view.js; none in the headless renderer):
    // beforeUpdate() before the world matrices are computed, beforeScreen() before the
    // screen is drawn (not a grab)
    this.local = null;
    this.aspect = null; // a locked aspect ratio: the canvas is letterboxed to it
    this.immersive = null; // the running immersive session (xr.js), if any
    this.scheduled = false;
    this.minIntervalMs = headless ? 1000 : 0;
    this.lastRender = -Infinity;
    this.container = container;
    window.addEventListener('resize', () => this.resize());
    this.resize();
  }

  get width() { return this.renderer.domElement.width; }
  get height() { return this.renderer.domElement.height; }

  resize() {
    let w = Math.max(1, this.container.clientWidth || window.innerWidth);
    let h = Math.max(1, this.container.clientHeight || window.innerHeight);
    const style = this.renderer.domElement.style;
    if (this.aspect) {
      // the largest box of that aspect that fits, centred (index.html)
      if (w / h > this.aspect) w = Math.max(1, Math.round(h * this.aspect));
      else h = Math.max(1, Math.round(w / this.aspect));
      style.width = `${w}px`;
      style.height = `${h}px`;
    } else {
      style.width = style.height = '';
    }
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.requestRender();
  }

  // Letterbox the canvas to width/height = aspect (null: fill the container).
  lockAspect(aspect) {
    const next = aspect > 0 && Number.isFinite(aspect) ? aspect : null;
    if (next === this.aspect) return;
    this.aspect = next;
    this.resize();
  }

  setUp(up) {
    this.camera.up.copy(up);
    this.defaultHemisphere.position.copy(up);
    // sun from above and to the side, whatever the up axis
    const side = Math.abs(up.x) < 0.9 ? new THREE.Vector3(1, 0, 0) : new THREE.Vector3(0, 1, 0);
    this.defaultSun.position.copy(up).multiplyScalar(6).addScaledVector(side, 3);
    this.requestRender();
  }

  setBackground(value) {
    const color = parseColor(value ?? DEFAULT_BACKGROUND) ?? new THREE.Color(DEFAULT_BACKGROUND);
    if (this.passthrough) this.savedBackground = color; // shown again when AR ends
    else this.scene.background = color;
    this.requestRender();
  }

  // Per-render fix-ups (default lights on/off) shared by the screen and grab paths.
  prepare() {
    this.defaultLights.visible = !this.hasLights();
    this.local?.beforeUpdate();
    this.scene.updateMatrixWorld();
  }

  // Draw the scene with `camera` into the current target (`heightPx` high), after prepare().
  // During an immersive session any camera but the headset's (a grab's) draws as on the
  // desktop: three would otherwise draw the headset's view.
  draw(camera, heightPx) {
    const xr = this.renderer.xr;
    const offscreen = this.immersive !== null && camera !== this.immersive.eyes;
    if (offscreen) xr.enabled = false;
    try {
      const view = viewOf(this.scene, camera, heightPx);
      this.batches.sync(view);
      for (const element of this.viewDependent) element.beforeView(view);
      this.renderer.render(this.scene, camera);
    } finally {
      if (offscreen) xr.enabled = true;
    }
  }

  // -- immersive sessions (xr.js) ------------------------------------------------------
  beginImmersive(immersive, passthrough) {
    this.immersive = immersive;
    this.passthrough = passthrough;
    if (passthrough) {
      // AR: the room shows where nothing is drawn
      this.savedBackground = this.scene.background;
      this.scene.background = null;
      this.renderer.setClearColor(0x000000, 0);
    }
  }

  endImmersive() {
    if (this.passthrough) {
      this.scene.background = this.savedBackground;
      this.renderer.setClearColor(0x000000, 1);
    }
    this.immersive = null;
    this.passthrough = false;
    setTimeout(() => {
      if (this.immersive) return; // a new session began meanwhile
      // after three gave the canvas its size back and restarted its window loop: no loop
      // here, drawing is on demand
      this.renderer.setAnimationLoop(null);
      this.renderer.xr.enabled = false;
      this.resize();
    });

  }

  // One headset frame (both eyes), from the frame loop.
  renderImmersive(eyes) {
    this.prepare();
    this.local?.beforeScreen(); // the panel's choices (hidden displays, fixed frame) in VR too
    const xr = this.renderer.xr;
    xr.updateCamera(eyes); // the eyes' poses this frame, for culling and detail below
    const eye = xr.getCamera().cameras[0];
    this.draw(eyes, eye?.viewport?.w || this.height);
    flushDisposedMaterials();
  }

  requestRender() {
    if (this.scheduled || this.immersive) return;
    this.scheduled = true;
    const draw = () => requestAnimationFrame(() => {
      this.scheduled = false;
      this.render();
    });
    const wait = this.lastRender + this.minIntervalMs - performance.now();
    if (wait > 0) setTimeout(draw, wait);
    else draw();
  }

  render() {
    this.lastRender = performance.now();
    this.prepare();
    this.local?.beforeScreen();
    this.renderer.setRenderTarget(null);
    this.draw(this.camera, this.height);
    flushDisposedMaterials(this.renderer);
  }
}
