// Entry point: wires the viewer, scene graph, event queue, grabs, immersive sessions
// and the connection.
// Page URL: /?ws=ws://HOST:PORT&renderer=headless&id=TOKEN (docs/protocol.md).
// `xr=emulate` (tests only) first loads files/xr-emulation/xr-emulation.js, a WebXR
// runtime emulating a headset, served only where a test mounted it.
import { CameraControls } from './controls.js';
import { Connection } from './connection.js';
import { Dispatcher } from './dispatch.js';
import { Encoder } from './encoder.js';
import { Grabber } from './grab.js';
import { Loads } from './loads.js';
import { SceneGraph } from './scene.js';
import { Viewer } from './viewer.js';
import { Immersive } from './xr.js';

const params = new URLSearchParams(location.search);
const wsUrl = params.get('ws') || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
const statusLine = document.getElementById('status');

function status(text) {
  if (statusLine) statusLine.textContent = text;
}

const headless = params.get('renderer') === 'headless';
const viewer = new Viewer(document.getElementById('viewport') ?? document.body, { headless });
const loads = new Loads(() => viewer.requestRender());
let controls = null;
const graph = new SceneGraph(viewer.content, {
  warn: (message) => console.warn(`vuer_ros: ${message}`),
  requestRender: () => viewer.requestRender(),
  loads,
  batches: viewer.batches,
  viewDependent: viewer.viewDependent,
  setBackground: (value) => viewer.setBackground(value),
  setUp: (up) => { viewer.setUp(up); controls?.setUp(); },
});
viewer.hasLights = () => graph.lights > 0;

let ready = false;
let connection = null;
const grabber = new Grabber(viewer, graph, loads, new Encoder());
const dispatcher = new Dispatcher(graph, {
  GRAB_RENDER: (event, reply) => grabber.handle(event, reply),
  applied: (event) => {
    if (event.etype === 'SET' && !ready && connection?.open) {
      ready = true;
      status('');
    }
  },
  changed: () => viewer.requestRender(),
});

grabber.takeApplyMs = () => dispatcher.takeApplyMs();

connection = new Connection(wsUrl, {
  onOpen: () => {
    status('connected');
    connection.send('INIT', {
      clientType: 'vuer_ros',
      renderer: params.get('renderer') ?? 'browser',
      id: params.get('id'),
      userAgent: navigator.userAgent,
      width: viewer.width,
      height: viewer.height,
    });
  },
  onEvent: (event, socket) => {
    // an RPC answer goes back on the connection that asked
    const reply = (value) => connection.send(event.rtype, value, event.key ?? null, socket);
    dispatcher.push(event, reply);
  },
  onClose: () => {
    ready = false;
    status('reconnecting…');
  },
});

controls = new CameraControls(viewer, (camera) => connection.send('CAMERA_MOVE', { camera }, 'defaultCamera'));

// VR / AR buttons where the browser offers immersive sessions (not in the headless renderer)
let immersive = null;
function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.appendChild(script);
  });
}
if (!headless) {
  const emulation = params.get('xr') === 'emulate' ? loadScript('files/xr-emulation/xr-emulation.js') : Promise.resolve();
  emulation.then(() => {
    immersive = new Immersive(viewer, graph,
      () => ({ position: viewer.camera.position, target: controls.controls.target }));
    return immersive.offerButtons(document.body);
  }).catch((err) => console.warn(`vuer_ros: immersive sessions unavailable: ${err?.message ?? err}`));
}

// Debug handle for tests.
window.__vuerRos = {
  get ready() { return ready; },
  get eventsApplied() { return dispatcher.applied; },
  nodeCount: () => graph.size,
  viewer, graph,
  get immersive() { return immersive; },
  handlers: dispatcher.handlers, // tests add RPC handlers here
};
