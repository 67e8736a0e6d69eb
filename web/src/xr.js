// Immersive sessions (WebXR): the "Enter VR" / "Enter AR" buttons, where the ROS world
// stands in the headset, and the controllers that move and turn it.
//
// The one Z-up -> Y-up conversion of the client is here: XR reference spaces are Y up,
// the scene is ROS (Z up, metres). The headset's eyes ride on a rig whose matrix maps
// XR `local-floor` coordinates to scene coordinates:
//   rig = place * Z_UP,  place = translate * rotate about scene Z * uniform scale
// so the scene itself is never moved (grabs, batches and TF poses stay in ROS
// coordinates); only where the eyes are changes.
//
// - 1:1 (default): the fixed frame's z = 0 is the floor, one metre is one metre, and
//   you start standing where the desktop camera stands (its x, y), facing what it looks at.
// - table-top: the scene (the origins of its nodes, grid and lights aside) is scaled to
//   TABLE_SIZE across and stands TABLE_DISTANCE in front of you, TABLE_DROP below your eyes.
// - controllers: hold grip (squeeze) to drag the world with that hand; thumbstick
//   left/right turns it about you; thumbstick up/down scales it in table-top mode; A/X
//   switches between 1:1 and table-top.
//
// While a session runs, renderer.setAnimationLoop draws every headset frame; scene
// events are applied between frames as they arrive (dispatch.js), so each frame shows
// all events applied before it.
import * as THREE from 'three';

const Z_UP = new THREE.Matrix4().makeRotationX(Math.PI / 2); // XR +Y -> scene +Z, XR -Z -> scene +Y
export const TABLE_SIZE = 0.6; // metres across, in table-top mode
export const TABLE_DISTANCE = 0.6; // metres in front of the head
export const TABLE_DROP = 0.5; // metres below the eyes
const EYE_HEIGHT = 1.6; // metres, where the runtime knows no floor
const TURN_RATE = Math.PI / 2; // rad/s at full thumbstick
const SCALE_RATE = 1.0; // e-folds/s at full thumbstick (table-top)
const DEADZONE = 0.2;
// xr-standard gamepad mapping
const SQUEEZE = 1, BUTTON_A = 4, STICK_X = 2, STICK_Y = 3;
const NOT_SCENE_EXTENT = new Set(['Scene', 'Grid', 'GrabRender', 'HemisphereLight', 'DirectionalLight',
  'AmbientLight', 'PointLight']);

const HAND_MATERIAL = new THREE.MeshBasicMaterial({ color: 0x9a9aa0 });
const RAY_MATERIAL = new THREE.LineBasicMaterial({ color: 0xd0d0d8 });

const v1 = new THREE.Vector3();
const m1 = new THREE.Matrix4();
const m2 = new THREE.Matrix4();

function translation(v) { return new THREE.Matrix4().makeTranslation(v.x, v.y, v.z); }

// The floor placement for a desktop camera: stand at its (x, y), face its target.
export function placementFromCamera(position, target) {
  let dx = target.x - position.x, dy = target.y - position.y;
  if (Math.hypot(dx, dy) < 1e-6) { dx = 1; dy = 0; } // looking straight down: face +X
  const yaw = Math.atan2(dy, dx) - Math.PI / 2; // XR forward is scene +Y before the turn
  return new THREE.Matrix4().makeRotationZ(yaw).setPosition(position.x, position.y, 0).multiply(Z_UP);
}

export class Immersive {
  // viewer: Viewer; graph: SceneGraph (for the table-top extent); desktop: () => {position, target}
  constructor(viewer, graph, desktop) {
    this.viewer = viewer;
    this.graph = graph;
    this.desktop = desktop;
    this.xr = viewer.renderer.xr; // enabled only while a session runs
    this.floorOffset = new THREE.Matrix4(); // the reference space -> local-floor
    this.rig = new THREE.Object3D(); // XR local-floor -> scene; the eyes' parent
    this.rig.matrixAutoUpdate = false;
    this.eyes = new THREE.PerspectiveCamera(50, 1, 0.05, 1000);
    this.rig.add(this.eyes);
    this.tableTop = false;
    this.session = null;
    this.mode = null;
    this.frames = 0; // headset frames drawn in this session
    this.hands = [0, 1].map((i) => ({ grip: this.xr.getControllerGrip(i), ray: this.xr.getController(i),
      source: null, drag: null, a: false }));
    for (const hand of this.hands) {
      hand.ray.addEventListener('connected', (e) => { hand.source = e.data; });
      hand.ray.addEventListener('disconnected', () => { hand.source = null; hand.drag = null; });
      // where the hands are (three shows them only while the runtime tracks them)
      hand.grip.add(new THREE.Mesh(new THREE.BoxGeometry(0.03, 0.025, 0.1), HAND_MATERIAL));
      hand.ray.add(new THREE.Line(new THREE.BufferGeometry().setFromPoints(
        [new THREE.Vector3(0, 0, 0), new THREE.Vector3(0, 0, -0.25)]), RAY_MATERIAL));
      this.rig.add(hand.grip, hand.ray);
    }
    viewer.scene.add(this.rig);
    this.lastTime = null;
    this.buttons = null;
    this.head = { position: new THREE.Vector3(0, 1.6, 0), quaternion: new THREE.Quaternion() };
  }

  // "Enter VR" / "Enter AR" / "Table-top" for what the browser offers (nothing when it
  // offers no immersive session).
  async offerButtons(container) {
    const xrSystem = navigator.xr;
    if (!xrSystem) return [];
    const modes = [];
    for (const [mode, label] of [['immersive-vr', 'Enter VR'], ['immersive-ar', 'Enter AR']]) {
      try {
        if (await xrSystem.isSessionSupported(mode)) modes.push([mode, label]);
      } catch { /* not offered */ }
    }
    if (!modes.length) return [];
    const bar = document.createElement('div');
    bar.id = 'xr-buttons';
    this.buttons = {};
    for (const [mode, label] of modes) {
      const button = document.createElement('button');
      button.textContent = label;
      button.dataset.mode = mode;
      button.addEventListener('click', () => {
        const done = this.session ? this.session.end() : this.enter(mode);
        done.catch((err) => console.warn(`vuer_ros: ${label}: ${err?.message ?? err}`));
      });
      bar.appendChild(button);
      this.buttons[mode] = button;
    }
    const table = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.id = 'xr-table-top';
    box.addEventListener('change', () => this.setTableTop(box.checked));
    table.append(box, ' Table-top');
    bar.appendChild(table);
    this.tableBox = box;
    container.appendChild(bar);
    return modes.map(([mode]) => mode);
  }

  async enter(mode) {
    if (this.session) return this.session;
    const session = await navigator.xr.requestSession(mode, { optionalFeatures: ['local-floor'] });
    // without a floor (some AR devices) the origin is the head's first pose: the floor is
    // taken as EYE_HEIGHT below it
    const floor = !session.enabledFeatures || session.enabledFeatures.includes('local-floor');
    this.xr.setReferenceSpaceType(floor ? 'local-floor' : 'local');
    this.floorOffset.makeTranslation(0, floor ? 0 : EYE_HEIGHT, 0);
    this.session = session;
    this.mode = mode;
    this.frames = 0;
    this.lastTime = null;
    this.head.position.set(0, floor ? EYE_HEIGHT : 0, 0);
    this.head.quaternion.identity();
    session.addEventListener('end', () => this.ended());
    this.xr.enabled = true;
    this.viewer.beginImmersive(this, mode === 'immersive-ar');
    this.place();
    // the loop first: three then runs it from the session's frames only (not the window's too)
    this.viewer.renderer.setAnimationLoop((time, frame) => this.frame(time, frame));
    await this.xr.setSession(session);
    for (const [m, button] of Object.entries(this.buttons ?? {})) button.textContent = m === mode ? 'Exit' : button.textContent;
    return session;
  }

  ended() {
    this.viewer.renderer.setAnimationLoop(null);
    this.session = null;
    this.mode = null;
    for (const hand of this.hands) hand.drag = null;
    for (const [mode, button] of Object.entries(this.buttons ?? {})) {
      button.textContent = mode === 'immersive-vr' ? 'Enter VR' : 'Enter AR';
    }
    this.viewer.endImmersive();
  }

  setTableTop(on) {
    this.tableTop = !!on;
    if (this.tableBox) this.tableBox.checked = this.tableTop;
    if (this.session) this.place();
  }

  // Where the world starts (and restarts on a mode switch), at the next frame (which
  // knows where the head is): see the header.
  place() {
    this.placePending = true;
  }

  applyPlacement() {
    this.placePending = false;
    const { position, target } = this.desktop();
    const standing = placementFromCamera(position, target);
    this.rig.matrix.copy(this.tableTop ? this.tableTopPlacement(standing) : standing).multiply(this.floorOffset);
    this.rig.updateMatrixWorld(true);
  }

  // Table-top: the extent of the scene's nodes scaled to TABLE_SIZE, the middle of its
  // bottom at a point TABLE_DISTANCE ahead of the head and TABLE_DROP below it, turned
  // as `standing` turns it.
  tableTopPlacement(standing) {
    const box = this.sceneExtent();
    const size = box.getSize(new THREE.Vector3());
    const scale = Math.max(size.x, size.y, size.z, 0.05) / TABLE_SIZE; // scene metres per XR metre
    const head = this.headInXR();
    head.position.applyMatrix4(this.floorOffset); // in local-floor coordinates, as the result
    const forward = new THREE.Vector3(0, 0, -1).applyQuaternion(head.quaternion);
    forward.y = 0;
    if (forward.lengthSq() < 1e-9) forward.set(0, 0, -1);
    forward.normalize();
    const spot = head.position.clone().addScaledVector(forward, TABLE_DISTANCE);
    spot.y = Math.max(0, head.position.y - TABLE_DROP);
    const bottom = new THREE.Vector3((box.min.x + box.max.x) / 2, (box.min.y + box.max.y) / 2, box.min.z);
    // rotation part of `standing` (a turn about scene Z times Z_UP), then scale
    const turn = new THREE.Matrix4().extractRotation(standing);
    // applied to local-floor coordinates; place() then takes the reference space to those
    return translation(bottom).multiply(turn).multiply(m1.makeScale(scale, scale, scale)).multiply(translation(spot.negate()));
  }

  // Axis-aligned box of the world positions of the scene's nodes (grid, lights and the
  // root aside): cheap, and batched solids have no geometry of their own to measure.
  sceneExtent() {
    const box = new THREE.Box3();
    this.viewer.scene.updateMatrixWorld();
    for (const rec of this.graph.nodes.values()) {
      if (NOT_SCENE_EXTENT.has(rec.tag) || !rec.holder.visible) continue;
      box.expandByPoint(v1.setFromMatrixPosition(rec.holder.matrixWorld));
    }
    if (box.isEmpty()) box.set(new THREE.Vector3(-0.5, -0.5, 0), new THREE.Vector3(0.5, 0.5, 1));
    return box;
  }

  // The head pose in the reference space (local-floor; local where the device has no
  // floor): the last frame's.
  headInXR() {
    return { position: this.head.position.clone(), quaternion: this.head.quaternion.clone() };
  }

  trackHead(frame) {
    const pose = frame.getViewerPose(this.xr.getReferenceSpace());
    if (!pose) return;
    const p = pose.transform.position, q = pose.transform.orientation;
    this.head.position.set(p.x, p.y, p.z);
    this.head.quaternion.set(q.x, q.y, q.z, q.w);
  }

  // One headset frame: controllers move the world, then the eyes draw the scene.
  frame(time, frame) {
    if (!frame) return; // the window's frames while the session starts
    const dt = this.lastTime === null ? 0 : Math.min(0.1, (time - this.lastTime) / 1000);
    this.lastTime = time;
    this.trackHead(frame);
    if (this.placePending) this.applyPlacement();
    this.handleControllers(dt);
    this.rig.updateMatrixWorld(true);
    this.viewer.renderImmersive(this.eyes);
    this.frames++;
  }

  handleControllers(dt) {
    for (const hand of this.hands) {
      const pad = hand.source?.gamepad;
      if (!pad) continue;
      const squeezed = !!pad.buttons[SQUEEZE]?.pressed;
      const grip = hand.source.gripSpace ? hand.grip : hand.ray;
      if (squeezed && !hand.drag && !this.hands.some((h) => h.drag)) {
        hand.drag = { start: grip.position.clone(), rig: this.rig.matrix.clone() };
      } else if (!squeezed) {
        hand.drag = null;
      }
      if (hand.drag) {
        // the scene point that was under the hand stays under it: rig = rig0 * T(p0 - p)
        const offset = v1.copy(hand.drag.start).sub(grip.position);
        this.rig.matrix.copy(hand.drag.rig).multiply(m1.makeTranslation(offset.x, offset.y, offset.z));
      }
      const pressedA = !!pad.buttons[BUTTON_A]?.pressed;
      if (pressedA && !hand.a) this.setTableTop(!this.tableTop);
      hand.a = pressedA;
      const x = pad.axes[STICK_X] ?? 0, y = pad.axes[STICK_Y] ?? 0;
      const head = this.headInXR().position;
      head.y = 0;
      if (Math.abs(x) > DEADZONE && !hand.drag) {
        // turn about the vertical through the head: pushing right turns the view right
        this.aboutPoint(head, m2.makeRotationY(-x * TURN_RATE * dt));
      }
      if (this.tableTop && Math.abs(y) > DEADZONE && !hand.drag) {
        const f = Math.exp(y * SCALE_RATE * dt); // pushing forward (y < 0) makes the world bigger
        this.aboutPoint(head, m2.makeScale(f, f, f));
      }
    }
  }

  // rig = rig * T(p) * m * T(-p), with p in XR coordinates
  aboutPoint(p, m) {
    this.rig.matrix.multiply(m1.makeTranslation(p.x, p.y, p.z)).multiply(m).multiply(m1.makeTranslation(-p.x, -p.y, -p.z));
  }
}
