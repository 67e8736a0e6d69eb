// Tests only (never in the production bundle): a WebXR runtime emulating a Meta Quest 3
// (iwer), installed before the client offers its VR/AR buttons, plus an RPC the tests
// drive it with. Built by `node build.mjs --xr-emulation OUTDIR`; the page loads it with
// `?xr=emulate` from files/xr-emulation/ (test/web/test_xr.py mounts OUTDIR there).
//
// RPC XR_TEST, data {op, ...}:
//   enter {mode, tableTop}        click the Enter button, wait for the first drawn frame
//   head {position, quaternion}   put the headset there (XR local-floor, metres)
//   controller {hand, position, quaternion, squeeze, thumbstick: [x, y], a}
//   frame {events, afterFrames, pixels}
//                                 the first frame drawn once `events` more events (after this
//                                 request) were applied and at least `afterFrames` frames
//                                 passed: its views (projection, view matrices, viewports), the
//                                 rig, frame counts (the client's drawn frames, the runtime's
//                                 device frames), frames waited and (pixels) the canvas, read
//                                 back in the frame's own task, rows bottom-up
//   exit                          end the session
import { XRDevice, metaQuest3 } from 'iwer';

const device = new XRDevice(metaQuest3, { stereoEnabled: true, ipd: 0.064 });
device.installRuntime({ forceInstall: true }); // headless Chromium has a navigator.xr of its own
window.__xrDevice = device;
let deviceFrames = 0; // every frame the runtime ran, counted from the session's start

function countDeviceFrames(session) {
  const step = () => { deviceFrames++; session.requestAnimationFrame(step); };
  session.requestAnimationFrame(step);
}

function client() {
  const handle = window.__vuerRos;
  if (!handle) throw new Error('the client is not running');
  return handle;
}

function nextFrames(predicate, timeoutMs = 10000) {
  // a callback registered now runs after three's in each device frame: the frame is drawn
  return new Promise((resolve, reject) => {
    const session = client().viewer.renderer.xr.getSession();
    if (!session) { reject(new Error('no immersive session')); return; }
    const timer = setTimeout(() => reject(new Error('no matching XR frame in time')), timeoutMs);
    const step = (time, frame) => {
      let result;
      try { result = predicate(frame); } catch (err) { clearTimeout(timer); reject(err); return; }
      if (result !== undefined) { clearTimeout(timer); resolve(result); } else session.requestAnimationFrame(step);
    };
    session.requestAnimationFrame(step);
  });
}

function describeFrame(frame, withPixels) {
  const { viewer, immersive, eventsApplied } = client();
  const xr = viewer.renderer.xr;
  const pose = frame.getViewerPose(xr.getReferenceSpace());
  const layer = xr.getBaseLayer();
  const views = pose.views.map((view) => {
    const vp = layer.getViewport(view);
    return { eye: view.eye, projection: Array.from(view.projectionMatrix), view: Array.from(view.transform.inverse.matrix),
      viewport: [vp.x, vp.y, vp.width, vp.height] };
  });
  const gl = viewer.renderer.getContext();
  const out = { applied: eventsApplied, frames: immersive.frames, deviceFrames, views, rig: immersive.rig.matrix.toArray(),
    tableTop: immersive.tableTop, width: gl.drawingBufferWidth, height: gl.drawingBufferHeight };
  if (withPixels) {
    const bound = gl.getParameter(gl.FRAMEBUFFER_BINDING);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null); // the XR layer's framebuffer is the canvas's
    const pixels = new Uint8Array(out.width * out.height * 4);
    gl.readPixels(0, 0, out.width, out.height, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
    gl.bindFramebuffer(gl.FRAMEBUFFER, bound);
    out.pixels = pixels;
  }
  return out;
}

async function xrTest(data) {
  const { viewer } = client();
  switch (data?.op) {
    case 'enter': {
      const immersive = client().immersive;
      if (!immersive) throw new Error('the client offers no immersive session');
      immersive.setTableTop(!!data.tableTop);
      const button = document.querySelector(`#xr-buttons button[data-mode="${data.mode ?? 'immersive-vr'}"]`);
      if (!button) throw new Error(`no button for ${data.mode}`);
      button.click();
      const started = performance.now();
      while (!viewer.renderer.xr.isPresenting) {
        if (performance.now() - started > 10000) throw new Error('the session did not start');
        await new Promise((r) => setTimeout(r, 20));
      }
      deviceFrames = 0;
      countDeviceFrames(viewer.renderer.xr.getSession());
      return nextFrames((frame) => (client().immersive.frames > 0 ? { frames: client().immersive.frames } : undefined));
    }
    case 'head':
      device.position.set(...data.position);
      device.quaternion.set(...(data.quaternion ?? [0, 0, 0, 1]));
      return { ok: true };
    case 'controller': {
      const controller = device.controllers[data.hand ?? 'right'];
      if (data.position) controller.position.set(...data.position);
      if (data.quaternion) controller.quaternion.set(...data.quaternion);
      if (data.squeeze !== undefined) controller.updateButtonValue('squeeze', data.squeeze);
      if (data.a !== undefined) controller.updateButtonValue(data.hand === 'left' ? 'x-button' : 'a-button', data.a);
      if (data.thumbstick) controller.updateAxes('thumbstick', data.thumbstick[0], data.thumbstick[1]);
      return { ok: true };
    }
    case 'frame': {
      // this request is counted as applied right after this handler returns
      const applied = client().eventsApplied + 1 + (data.events ?? 0);
      const after = data.afterFrames ?? 0;
      const start = client().immersive.frames;
      return nextFrames((frame) => {
        const waited = client().immersive.frames - start;
        if (client().eventsApplied < applied || waited < after) return undefined;
        return { ...describeFrame(frame, !!data.pixels), waited };
      });
    }
    case 'exit':
      await viewer.renderer.xr.getSession()?.end();
      return { ok: true };
    default:
      throw new Error(`unknown op ${JSON.stringify(data?.op)}`);
  }
}

function install() {
  const handle = window.__vuerRos;
  if (!handle) { setTimeout(install, 10); return; }
  handle.handlers.XR_TEST = (event, reply) => {
    xrTest(event.data).then(reply, (err) => reply({ error: String(err?.message ?? err) }));
  };
}
install();
