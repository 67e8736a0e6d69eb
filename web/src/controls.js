// The user's orbit camera (OrbitControls), and CAMERA_MOVE reports to the server,
// throttled to 10 Hz (first move at once, the last one of a burst always sent).
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';

const INTERVAL_MS = 100;

export function cameraState(camera, width, height, target) {
  camera.updateMatrixWorld();
  return {
    position: camera.position.toArray(),
    quaternion: camera.quaternion.toArray(),
    matrix: camera.matrixWorld.toArray(), // column-major
    fov: camera.fov, near: camera.near, far: camera.far, aspect: camera.aspect,
    width, height,
    ...(target ? { target: target.toArray() } : {}),
  };
}

export class CameraControls {
  constructor(viewer, send) {
    this.viewer = viewer;
    this.send = send;
    this.last = 0;
    this.timer = null;
    this.onStart = null; // called when the user starts moving the view (local-view.js)
    this.make();
  }

  // OrbitControls reads camera.up when built: a new `up` needs new controls.
  make(target) {
    this.controls?.dispose();
    const controls = new OrbitControls(this.viewer.camera, this.viewer.renderer.domElement);
    controls.enableDamping = false; // damping would need a running animation loop
    if (target) controls.target.copy(target);
    controls.update();
    controls.addEventListener('change', () => this.changed());
    controls.addEventListener('start', () => this.onStart?.());
    this.controls = controls;
  }

  setUp() {
    this.make(this.controls?.target.clone());
    this.viewer.requestRender();
  }

  changed() {
    this.viewer.requestRender();
    const wait = this.last + INTERVAL_MS - performance.now();
    if (wait <= 0) this.report();
    else if (!this.timer) this.timer = setTimeout(() => this.report(), wait);
  }

  report() {
    clearTimeout(this.timer);
    this.timer = null;
    this.last = performance.now();
    const { camera, width, height } = this.viewer;
    this.send(cameraState(camera, width, height, this.controls.target));
  }
}
