// The scene graph: wire nodes -> three.js objects, indexed by key, and the scene
// events SET / UPDATE / ADD / UPSERT / REMOVE (docs/protocol.md). Mirrors the
// server's vuer_ros/protocol/scene_tree.py so both sides agree on the tree.
//
// Two hooks for what one browser shows on its own (local-view.js), neither of which
// changes the tree: the root's `children` hang in `rootFrame` (a group the local
// view may move, to re-root the view at another frame; `bgChildren` stay put), and a
// local filter may hide nodes by key whatever their `visible` prop says.
import * as THREE from 'three';
import { any } from './elements/base.js';
import { ELEMENTS, Unknown } from './elements/index.js';
import { SceneRoot } from './elements/scene-root.js';
import { CHILD_LISTS, DEFAULTS, DEFAULT_KEYS } from './schema.generated.js';
import { TRANSFORM_PROPS, applyTransform } from './transform.js';

const NOT_PROPS = new Set(['tag', 'key', ...CHILD_LISTS]);
const DEFAULT_UP = DEFAULTS.Scene.up;

function emptyScene() {
  return { tag: 'Scene', key: DEFAULT_KEYS.Scene, up: DEFAULT_UP, children: [], bgChildren: [] };
}

// A Text node's string children are its text (`_text`).
function textOf(children) {
  if (!Array.isArray(children)) return undefined;
  const strings = children.filter((c) => typeof c === 'string');
  return strings.length ? strings.join('') : undefined;
}

function propsOf(node) {
  const props = {};
  for (const [name, value] of Object.entries(node)) if (!NOT_PROPS.has(name)) props[name] = value;
  const text = textOf(node.children);
  if (text !== undefined) props._text = text;
  return props;
}

export class SceneGraph {
  // parent: the THREE.Object3D the scene root goes in; ctx: services for elements
  // (warn, requestRender, loads, setBackground) — `up` and `setUp` are added here.
  constructor(parent, ctx) {
    this.parent = parent;
    this.nodes = new Map();
    this.lights = 0;
    this.up = new THREE.Vector3(...DEFAULT_UP);
    this.warned = new Set();
    this.anonymous = 0;
    const onUp = ctx.setUp ?? (() => {});
    this.ctx = {
      ...ctx,
      up: () => this.up,
      setUp: (up) => {
        const v = Array.isArray(up) && up.length === 3 && up.every(Number.isFinite) ? up : DEFAULT_UP;
        const next = new THREE.Vector3(v[0], v[1], v[2]);
        if (next.lengthSq() === 0) next.set(...DEFAULT_UP);
        // every SET (each reconnect) restates `up`: rebuild the orbit controls only on a change
        if (this.upApplied && next.equals(this.up)) return;
        this.upApplied = true;
        this.up.copy(next);
        onUp(this.up.clone());
        for (const rec of this.nodes.values()) rec.element.sceneUp?.(this.up);
      },
    };
    this.root = null;
    this.rootFrame = new THREE.Group();
    this.rootFrame.name = 'vuer_ros root children';
    this.localHides = null; // key -> true when this browser hides the node (local-view.js)
    this.locallyHidden = new Set(); // records the filter hides now
    this.set(emptyScene());
  }

  get(key) { return this.nodes.get(key); }
  get size() { return this.nodes.size; }

  // -- events -----------------------------------------------------------------
  set(node) {
    if (!node || typeof node !== 'object') throw new Error('SET: data is not a node');
    if (this.root) this.destroy(this.root);
    this.nodes.clear();
    this.locallyHidden.clear();
    this.lights = 0;
    this.root = this.build(node, null, null);
    this.root.holder.add(this.rootFrame);
    this.parent.add(this.root.holder);
  }

  // -- what this browser alone hides (local-view.js) ---------------------------------
  setLocalFilter(hides) {
    this.localHides = hides;
    for (const rec of this.nodes.values()) this.applyVisible(rec);
  }

  applyVisible(rec) {
    const hidden = this.localHides !== null && this.localHides(rec.key);
    if (hidden) this.locallyHidden.add(rec);
    else this.locallyHidden.delete(rec);
    rec.holder.visible = rec.props.visible !== false && !hidden;
  }

  // Run fn with the scene as the server sent it (a grab): the local filter lifted.
  withoutLocalFilter(fn) {
    for (const rec of this.locallyHidden) rec.holder.visible = rec.props.visible !== false;
    try {
      return fn();
    } finally {
      for (const rec of this.locallyHidden) rec.holder.visible = false;
    }
  }

  update(nodes, strict = false) {
    for (const node of nodes ?? []) {
      const rec = node && this.nodes.get(node.key);
      if (!rec) continue; // unknown key: ignored (the server reports it)
      const props = propsOf(node);
      let changed;
      if (strict) {
        changed = new Set([...Object.keys(rec.props), ...Object.keys(props)]);
        rec.props = props;
      } else {
        // Only props whose value differs count as changed: senders (the vuer seed among
        // them) restate args and materials every frame, and rebuilding the geometry
        // and material each time costs more than the whole render.
        changed = new Set();
        for (const name of Object.keys(props)) {
          if (!sameValue(rec.props[name], props[name])) changed.add(name);
        }
        Object.assign(rec.props, props);
        if ('children' in node && props._text === undefined && rec.props._text !== undefined) {
          delete rec.props._text;
          changed.add('_text');
        }
      }
      if (typeof node.tag === 'string' && node.tag !== rec.tag) {
        this.disposeElement(rec);
        rec.tag = node.tag;
        this.makeElement(rec);
      } else {
        this.applyProps(rec, changed, false);
      }
      for (const list of CHILD_LISTS) {
        if (strict || list in node) this.replaceChildren(rec, list, node[list]);
      }
    }
  }

  add(nodes, to = null) {
    const parent = to == null ? this.root : this.nodes.get(to);
    if (!parent) { this.warn(`ADD: no parent with key ${JSON.stringify(to)}`); return; }
    for (const node of nodes ?? []) {
      if (!node || typeof node !== 'object') continue;
      // a second node with a key that exists replaces it (as the server's tree does)
      const existing = this.nodes.get(node.key);
      if (existing && existing !== this.root) this.detach(existing);
      this.appendChild(parent, 'children', node);
    }
  }

  upsert(nodes, to = null, strict = false) {
    const fresh = [];
    for (const node of nodes ?? []) {
      if (node && this.nodes.has(node.key)) this.update([node], strict);
      else fresh.push(node);
    }
    if (fresh.length) this.add(fresh, to);
  }

  remove(keys) {
    for (const key of keys ?? []) {
      const rec = this.nodes.get(key);
      if (rec && rec !== this.root) this.detach(rec);
    }
  }

  // -- building ---------------------------------------------------------------
  build(node, parent, slot) {
    const key = typeof node.key === 'string' ? node.key : `__anonymous-${this.anonymous++}`;
    const holder = new THREE.Group();
    holder.name = key;
    const rec = { key, tag: String(node.tag ?? 'Group'), props: propsOf(node), holder, element: null,
      children: [], bgChildren: [], parent, slot };
    this.nodes.set(key, rec); // a duplicate key: the later node wins lookups
    this.makeElement(rec);
    for (const list of CHILD_LISTS) {
      for (const child of Array.isArray(node[list]) ? node[list] : []) {
        if (child && typeof child === 'object') this.appendChild(rec, list, child);
      }
    }
    return rec;
  }

  appendChild(parent, list, node) {
    const rec = this.build(node, parent, list);
    parent[list].push(rec);
    // the root's children go in rootFrame (parent.parent null: the root, also while it is built)
    (parent.parent === null && list === 'children' ? this.rootFrame : parent.holder).add(rec.holder);
    return rec;
  }

  replaceChildren(rec, list, nodes) {
    for (const child of rec[list]) this.destroy(child);
    rec[list] = [];
    for (const child of Array.isArray(nodes) ? nodes : []) {
      if (child && typeof child === 'object') this.appendChild(rec, list, child);
    }
  }

  makeElement(rec) {
    // a Scene is the root only: one nested in the tree is drawn as an unknown tag
    let Type = rec.tag === 'Scene' && rec.parent ? null : ELEMENTS[rec.tag];
    if (!Type) {
      if (!this.warned.has(rec.tag)) {
        this.warned.add(rec.tag);
        console.warn(`vuer_ros: unknown tag ${JSON.stringify(rec.tag)} drawn as an empty group`);
      }
      Type = Unknown;
    }
    rec.element = new Type(rec.holder, this.ctx);
    if (Type.isLight) this.lights++;
    this.applyProps(rec, new Set(Object.keys(rec.props)), true);
  }

  applyProps(rec, changed, all) {
    try {
      rec.element.update(rec.props, changed);
    } catch (err) {
      this.warn(`${rec.tag} ${rec.key}: ${err?.stack ?? err}`);
    }
    if (rec.element instanceof SceneRoot) return;
    if (all || any(changed, TRANSFORM_PROPS)) applyTransform(rec.holder, rec.props, rec.element.constructor.scaleIsTransform);
    this.applyVisible(rec);
  }

  // -- removal ------------------------------------------------------------------
  detach(rec) {
    const siblings = rec.parent?.[rec.slot];
    if (siblings) {
      const i = siblings.indexOf(rec);
      if (i >= 0) siblings.splice(i, 1);
    }
    this.destroy(rec);
  }

  destroy(rec) {
    for (const list of CHILD_LISTS) for (const child of rec[list]) this.destroy(child);
    rec.children = [];
    rec.bgChildren = [];
    this.disposeElement(rec);
    rec.holder.removeFromParent();
    this.locallyHidden.delete(rec);
    if (this.nodes.get(rec.key) === rec) this.nodes.delete(rec.key);
  }

  disposeElement(rec) {
    if (!rec.element) return;
    if (rec.element.constructor.isLight) this.lights--;
    try { rec.element.dispose(); } catch (err) { this.warn(`${rec.tag} ${rec.key}: dispose: ${err}`); }
    rec.element = null;
  }

  warn(message) {
    this.ctx.warn?.(message);
  }
}

// Deep equality for plain prop values (numbers, strings, arrays, plain objects).
// Binary payloads (packed arrays) always count as changed: comparing them costs
// as much as uploading them.
function sameValue(a, b) {
  if (a === b) return true;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) if (!(k in b) || !sameValue(a[k], b[k])) return false;
    return true;
  }
  return false;
}
