// What one browser shows on its own, as chosen in its panel (panel.js): the displays it
// hides, the frame its view is drawn in, and where its camera looks from. Nothing of it
// goes to the server, and grabs never see it (asSent): the published images follow the
// node's parameters.
//
// - Hiding: a node whose key a hidden display owns (docs/protocol.md, "Viewer status":
//   the key is a hidden prefix, or one followed by a separator) is made invisible here,
//   with its subtree (scene.js setLocalFilter).
// - Fixed frame: the scene's root children hang in `graph.rootFrame`; before each
//   render it gets the inverse of the chosen frame group's pose relative to it, so that
//   frame is the origin, as when rviz's fixed frame is that frame (the grid stays at the
//   origin). Everything keeps the placement the node computed in its own fixed frame.
// - Camera: rviz's default view, or riding the render camera (its pose on its frame's
//   group, its vertical fov, the canvas letterboxed to its aspect) until the user
//   moves the view.
import * as THREE from 'three';
import { STATUS } from './schema.generated.js';

const SEPARATORS = new Set(STATUS.keySeparators);
const chain = new THREE.Matrix4();
const local = new THREE.Matrix4();
const unit = new THREE.Vector3(1, 1, 1);
const forward = new THREE.Vector3();

function vector(value, fallback) {
  return Array.isArray(value) && value.length === 3 && value.every(Number.isFinite)
    ? new THREE.Vector3(...value) : fallback.clone();
}

export class LocalView {
  constructor(viewer, graph, controls) {
    this.viewer = viewer;
    this.graph = graph;
    this.controls = controls;
    this.hidden = new Set(); // key prefixes hidden here
    this.frameKey = null; // the chosen fixed frame's group key (null: the node's)
    this.frameFound = true; // whether the last render found that group
    this.renderCamera = null; // the status's camera while the view rides it
    this.suspended = false;
    controls.onStart = () => this.leaveRenderCamera(); // the user moves the view
    viewer.local = this;
  }

  // -- hiding -----------------------------------------------------------------------------
  setHidden(prefixes) {
    const next = new Set(prefixes);
    if (next.size === this.hidden.size && [...next].every((p) => this.hidden.has(p))) return;
    this.hidden = next;
    this.graph.setLocalFilter(next.size ? (key) => this.hides(key) : null);
    this.viewer.requestRender();
  }

  hides(key) {
    if (this.hidden.has(key)) return true;
    for (let i = 0; i < key.length; i++) {
      if (SEPARATORS.has(key[i]) && this.hidden.has(key.slice(0, i))) return true;
    }
    return false;
  }

  // -- fixed frame --------------------------------------------------------------------------
  setFixedFrame(key) {
    this.frameKey = key || null;
    this.viewer.requestRender();
  }

  // viewer.prepare(): before the world matrices are computed
  beforeUpdate() {
    const root = this.graph.rootFrame;
    root.matrixAutoUpdate = false;
    root.matrix.identity();
    root.matrixWorldNeedsUpdate = true;
    if (this.suspended || !this.frameKey) {
      this.frameFound = true;
      return;
    }
    const rec = this.graph.get(this.frameKey);
    chain.identity();
    let found = false;
    for (let o = rec?.holder; o; o = o.parent) {
      if (o === root) { found = true; break; }
      if (o.matrixAutoUpdate) o.updateMatrix();
      chain.premultiply(o.matrix);
    }
    this.frameFound = found;
    if (found) root.matrix.copy(chain).invert();
  }

  // -- the camera -----------------------------------------------------------------------------
  // A view {position, target, up, fov, near, far} in the (chosen) fixed frame: rviz's default.
  useView(view) {
    this.leaveRenderCamera();
    const camera = this.viewer.camera;
    camera.position.copy(vector(view.position, camera.position));
    camera.up.copy(vector(view.up, camera.up));
    if (Number.isFinite(view.fov)) camera.fov = view.fov;
    if (Number.isFinite(view.near)) camera.near = view.near;
    if (Number.isFinite(view.far)) camera.far = view.far;
    camera.updateProjectionMatrix();
    this.controls.make(vector(view.target, new THREE.Vector3())); // orbit about the focal point
    this.controls.report();
    this.viewer.requestRender();
  }

  // Ride the render camera (the status's `camera`); updated by each status.
  useRenderCamera(camera) {
    if (!camera || typeof camera.key !== 'string') return false;
    this.renderCamera = camera;
    const view = this.viewer.camera;
    view.fov = camera.fov;
    view.near = camera.near;
    view.far = camera.far;
    this.viewer.lockAspect(camera.width / camera.height); // sets the aspect, renders
    return true;
  }

  leaveRenderCamera() {
    if (!this.renderCamera) return;
    this.renderCamera = null;
    this.viewer.lockAspect(null);
  }

  // viewer.render(): before the screen is drawn, world matrices current
  beforeScreen() {
    const cam = this.renderCamera;
    const rec = cam && this.graph.get(cam.key);
    if (!rec) return;
    const view = this.viewer.camera;
    local.compose(vector(cam.position, new THREE.Vector3()),
      new THREE.Quaternion(...cam.quaternion).normalize(), unit);
    chain.multiplyMatrices(rec.holder.matrixWorld, local);
    chain.decompose(view.position, view.quaternion, new THREE.Vector3());
    view.updateMatrixWorld();
    // orbit about a point ahead, so moving the view starts from this one
    forward.set(0, 0, -1).applyQuaternion(view.quaternion);
    const ahead = -view.position.dot(forward);
    this.controls.controls.target.copy(view.position).addScaledVector(forward, ahead > 0.5 ? ahead : 5);
  }

  // -- grabs ----------------------------------------------------------------------------------
  // Run fn (a grab) on the scene as the server sent it.
  asSent(fn) {
    this.suspended = true;
    try {
      return this.graph.withoutLocalFilter(fn);
    } finally {
      this.suspended = false;
    }
  }
}
