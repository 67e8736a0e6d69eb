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
    const w = Math.max(1, this.container.clientWidth || window.innerWidth);
    const h = Math.max(1, this.container.clientHeight || window.innerHeight);
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.requestRender();
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
    this.scene.background = parseColor(value ?? DEFAULT_BACKGROUND) ?? new THREE.Color(DEFAULT_BACKGROUND);
    this.requestRender();
  }

  // Per-render fix-ups (default lights on/off) shared by the screen and grab paths.
  prepare() {
    this.defaultLights.visible = !this.hasLights();
    this.scene.updateMatrixWorld();
  }

  // Draw the scene with `camera` into the current target (`heightPx` high), after prepare().
  draw(camera, heightPx) {
    const view = viewOf(this.scene, camera, heightPx);
    this.batches.sync(view);
    for (const element of this.viewDependent) element.beforeView(view);
    this.renderer.render(this.scene, camera);
  }

  requestRender() {
    if (this.scheduled) return;
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
    this.renderer.setRenderTarget(null);
    this.draw(this.camera, this.height);
    flushDisposedMaterials(this.renderer);
  }
}
