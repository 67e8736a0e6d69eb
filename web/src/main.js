// Entry point: wires the viewer, scene graph, event queue, grabs, immersive sessions
// and the connection.
// Page URL: /?ws=ws://HOST:PORT&renderer=headless&id=ID&token=TOKEN (docs/protocol.md).
// `xr=emulate` (tests only) first loads files/xr-emulation/xr-emulation.js, a WebXR
// runtime emulating a headset, served only where a test mounted it.
import { CameraControls } from './controls.js';
import { Connection } from './connection.js';
import { Dispatcher } from './dispatch.js';
import { Encoder } from './encoder.js';
import { Grabber } from './grab.js';
import { Loads } from './loads.js';
import { LocalView } from './local-view.js';
import { Panel } from './panel.js';
import { SceneGraph } from './scene.js';
import { STATUS } from './schema.generated.js';
import { Viewer } from './viewer.js';
import { Immersive } from './xr.js';

const params = new URLSearchParams(location.search);
const wsUrl = withToken(params.get('ws') || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`,
  params.get('token'));
const statusLine = document.getElementById('status');

function status(text) {
  if (statusLine) statusLine.textContent = text;
}

// The access token goes in the websocket URL; the page's files and meshes carry the
// cookie the server set when this page was loaded with it.
function withToken(url, token) {
  if (!token) return url;
  try {
    const parsed = new URL(url);
    if (!parsed.searchParams.has('token')) parsed.searchParams.set('token', token);
    return parsed.toString();
  } catch {
    return url;
  }
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
// A person's browser gets the side panel on the node's first status; the headless
// renderer never does (its pixels are the published images).
let local = null;
let panel = null;
let statuses = 0;
function onStatus(event) {
  statuses++;
  if (headless || !event.data || typeof event.data !== 'object') return;
  if (!panel) {
    panel = new Panel(local, () => viewer.resize());
    panel.setConnected(connection?.open ?? false);
    if (statusLine) statusLine.hidden = true;
  }
  panel.update(event.data);
}

const dispatcher = new Dispatcher(graph, {
  GRAB_RENDER: (event, reply) => grabber.handle(event, reply),
  [STATUS.etype]: onStatus,
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
    panel?.setConnected(true);
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
  onClose: (event) => {
    ready = false;
    // 1008: the server refused the access token; say why instead of a bare retry
    status(event?.code === 1008 ? `refused: ${event.reason}` : 'reconnecting…');
    panel?.setConnected(false);
  },
});

controls = new CameraControls(viewer, (camera) => connection.send('CAMERA_MOVE', { camera }, 'defaultCamera'));
if (!headless) local = new LocalView(viewer, graph, controls);

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
  get local() { return local; },
  get panel() { return panel; },
  get statuses() { return statuses; },
  get immersive() { return immersive; },
  handlers: dispatcher.handlers, // tests add RPC handlers here
};
