// The side panel of a person's browser (never the headless renderer's): what the node
// shows, as rviz's Displays panel lists it, from the node's status event
// (docs/protocol.md, "Viewer status"), and what this browser alone does with it
// (local-view.js): visibility toggles per display and marker namespace, the fixed
// frame chosen from TF, the camera buttons. A status line says whether the page is
// connected, sim or wall time, scene messages/s, images/s and the recent problems.
//
// Built on the first status (a plain Vuer app sends none: no panel). Docked at the
// left on a wide screen (the canvas beside it, never under it), over the view on a
// narrow one; collapsible; rows sized for fingers where the pointer is coarse
// (index.html). Each status updates the rows in place, so a row being clicked or
// tapped stays where it is.
import { STATUS } from './schema.generated.js';

const STALE_MS = 3 * STATUS.periodS * 1000;
const NARROW_PX = 640;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function rate(value, digits) {
  return Number.isFinite(value) ? value.toFixed(digits) : '–';
}

export class Panel {
  // view: LocalView; onLayout(): the canvas area changed size
  constructor(view, onLayout) {
    this.view = view;
    this.onLayout = onLayout;
    this.status = null;
    this.statusAt = -Infinity;
    this.connected = false;
    this.hiddenIds = new Set(); // display / namespace ids unticked here
    this.rows = new Map(); // id -> {item, box, count, children}
    this.frameOptions = '';
    this.framesShape = '';
    this.build();
    this.setOpen(window.innerWidth >= NARROW_PX);
    this.timer = setInterval(() => this.renderStatusLine(), 1000);
  }

  build() {
    this.openButton = el('button', { class: 'vp-open', type: 'button', title: 'Show the panel',
      'aria-label': 'show the panel', text: '☰' });
    this.openButton.addEventListener('click', () => this.setOpen(true));
    const close = el('button', { class: 'vp-close', type: 'button', title: 'Hide the panel',
      'aria-label': 'hide the panel', text: '◀' });
    close.addEventListener('click', () => this.setOpen(false));

    this.line = el('div', { class: 'vp-status', id: 'vp-status', role: 'status' });
    this.problems = el('details', { class: 'vp-problems' }, el('summary'), el('ol'));

    this.rvizButton = el('button', { type: 'button', id: 'vp-rviz-view', text: 'rviz default view' });
    this.rvizButton.addEventListener('click', () => {
      if (this.status?.rvizView) this.view.useView(this.status.rvizView);
    });
    this.cameraButton = el('button', { type: 'button', id: 'vp-camera-view', text: 'render camera view' });
    this.cameraButton.addEventListener('click', () => {
      this.view.useRenderCamera(this.status?.camera);
      this.renderCamera();
    });

    this.fixedFrame = el('select', { id: 'vp-fixed-frame' });
    this.fixedFrame.addEventListener('change', () => this.applyFixedFrame());
    this.frameNote = el('div', { class: 'vp-note' });

    this.displays = el('ul', { class: 'vp-displays', id: 'vp-displays' });
    this.frames = el('ul', { class: 'vp-tree', id: 'vp-frames' });
    this.framesCount = el('span');

    this.root = el('aside', { id: 'vuer-panel', 'aria-label': 'displays' },
      el('header', {}, close, el('span', { class: 'vp-title', text: 'vuer_ros' })),
      this.line, this.problems,
      el('section', { class: 'vp-views' }, this.rvizButton, this.cameraButton),
      el('section', {}, el('label', { class: 'vp-field' }, el('span', { text: 'Fixed frame' }), this.fixedFrame),
        this.frameNote),
      el('section', {}, el('h2', { text: 'Displays' }), this.displays),
      el('section', {}, el('details', { class: 'vp-frames' },
        el('summary', {}, 'TF frames ', this.framesCount), this.frames)));
    document.body.append(this.root, this.openButton);
  }

  setOpen(open) {
    document.body.classList.toggle('vp-panel-open', open);
    this.onLayout();
  }

  setConnected(connected) {
    this.connected = connected;
    this.renderStatusLine();
  }

  // -- a status arrived ---------------------------------------------------------------------
  update(status) {
    this.status = status;
    this.statusAt = performance.now();
    this.renderStatusLine();
    this.renderDisplays();
    this.renderFrames();
    this.renderCamera();
    this.applyHidden();
    this.applyFixedFrame();
  }

  renderStatusLine() {
    const s = this.status;
    const fresh = performance.now() - this.statusAt < STALE_MS;
    const parts = [this.connected ? 'connected' : 'disconnected'];
    if (this.connected && !fresh) parts.push('no status from the node');
    if (s) {
      parts.push(s.simTime ? `sim time ${rate(s.time, 1)} s`
        : `wall time ${Number.isFinite(s.time) ? new Date(s.time * 1000).toISOString().slice(11, 19) : '–'}`);
      parts.push(`${rate(s.sceneRate, 0)} msg/s`);
      parts.push(`${rate(s.imageRate, 1)} img/s`);
      parts.push(`${s.problems} problem${s.problems === 1 ? '' : 's'}`);
    }
    this.line.textContent = parts.join(' · ');
    this.line.classList.toggle('vp-bad', !this.connected || !fresh);
    const [summary, list] = this.problems.children;
    const recent = s?.recentProblems ?? [];
    summary.textContent = `${s?.problems ?? 0} problems: the latest`;
    this.problems.hidden = recent.length === 0;
    if (list.childElementCount !== recent.length || [...list.children].some((li, i) => li.textContent !== recent[i])) {
      list.replaceChildren(...recent.map((text) => el('li', { text })));
    }
  }

  // -- displays -------------------------------------------------------------------------------
  renderDisplays() {
    const seen = new Set();
    const place = (entries, list, parentHidden) => {
      let previous = null;
      for (const entry of entries) {
        seen.add(entry.id);
        const row = this.rows.get(entry.id) ?? this.makeRow(entry);
        row.entry = entry;
        row.count.textContent = entry.type === 'Namespace' ? ''
          : entry.messages ? `${entry.messages} msg` : 'no messages';
        row.box.checked = !this.hiddenIds.has(entry.id);
        // nothing drawn (yet) that could be hidden, or hidden with its topic
        row.box.disabled = parentHidden || (!entry.keys.length && !entry.children?.length);
        // in status order: move it only when it is out of place
        const want = previous ? previous.nextSibling : list.firstChild;
        if (want !== row.item) list.insertBefore(row.item, want);
        previous = row.item;
        place(entry.children ?? [], row.children, parentHidden || this.hiddenIds.has(entry.id));
      }
    };
    place(this.status.displays ?? [], this.displays, false);
    for (const [id, row] of this.rows) {
      if (!seen.has(id)) {
        row.item.remove();
        this.rows.delete(id);
      }
    }
  }

  makeRow(entry) {
    const box = el('input', { type: 'checkbox', 'data-id': entry.id });
    box.addEventListener('change', () => {
      if (box.checked) this.hiddenIds.delete(entry.id);
      else this.hiddenIds.add(entry.id);
      this.renderDisplays();
      this.applyHidden();
    });
    const count = el('span', { class: 'vp-count' });
    const label = el('label', { class: 'vp-row', title: entry.topic || entry.name },
      box, el('span', { class: 'vp-type', text: entry.type === 'Namespace' ? 'ns' : entry.type }),
      el('span', { class: 'vp-name', text: entry.name }), count);
    const children = el('ul');
    const item = el('li', { 'data-id': entry.id }, label, children);
    const row = { item, box, count, children, entry };
    this.rows.set(entry.id, row);
    return row;
  }

  applyHidden() {
    const prefixes = [];
    const collect = (entries, hidden) => {
      for (const e of entries) {
        const off = hidden || this.hiddenIds.has(e.id);
        if (off) prefixes.push(...e.keys);
        collect(e.children ?? [], off);
      }
    };
    collect(this.status?.displays ?? [], false);
    this.view.setHidden(prefixes);
  }

  // -- frames ---------------------------------------------------------------------------------
  renderFrames() {
    const frames = this.status.frames ?? [];
    const node = this.status.fixedFrame;
    const inScene = frames.filter((f) => f.key);
    const options = JSON.stringify([node, inScene.map((f) => f.name)]);
    if (options !== this.frameOptions) {
      this.frameOptions = options;
      const chosen = this.fixedFrame.value;
      const names = inScene.map((f) => f.name).filter((n) => n !== node);
      if (chosen && !names.includes(chosen)) names.push(chosen); // gone: kept, and said so
      this.fixedFrame.replaceChildren(el('option', { value: '', text: `${node} (the node's)` }),
        ...names.map((n) => el('option', { value: n, text: n })));
      this.fixedFrame.value = chosen;
    }
    this.framesCount.textContent = `(${frames.length})`;
    const shape = JSON.stringify(frames.map((f) => [f.name, f.parent, !!f.key]));
    if (shape === this.framesShape) return;
    this.framesShape = shape;
    const children = new Map();
    const known = new Set(frames.map((f) => f.name));
    for (const f of frames) {
      const parent = known.has(f.parent) ? f.parent : null;
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(f);
    }
    const grow = (parent, depth) => (children.get(parent) ?? []).map((f) => el('li',
      { class: f.key ? '' : 'vp-off', title: f.key ? '' : 'not connected to the fixed frame' },
      el('span', { text: f.name }), depth < 64 && children.has(f.name) ? el('ul', {}, ...grow(f.name, depth + 1)) : null));
    this.frames.replaceChildren(...grow(null, 0));
  }

  applyFixedFrame() {
    const name = this.fixedFrame.value;
    const frame = (this.status?.frames ?? []).find((f) => f.name === name);
    this.view.setFixedFrame(name && frame?.key ? frame.key : null);
    this.frameNote.textContent = name && !frame?.key
      ? `${name} is not in the scene now: the view is drawn in ${this.status?.fixedFrame}` : '';
  }

  // -- the camera -----------------------------------------------------------------------------
  renderCamera() {
    const camera = this.status?.camera;
    this.cameraButton.disabled = !camera?.key;
    this.cameraButton.title = camera ? (camera.key ? `${camera.width}x${camera.height}, fov ${camera.fov}° on ${camera.frame}`
      : `${camera.frame} is not in the scene`) : 'no render camera';
    if (this.view.renderCamera && camera) this.view.useRenderCamera(camera); // follow changes
    this.cameraButton.classList.toggle('vp-active', !!this.view.renderCamera);
  }
}
