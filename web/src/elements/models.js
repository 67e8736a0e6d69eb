// Models by URL: Obj, Stl, Dae, Glb (three's loaders; no Draco, nothing from a CDN).
// `src` resolves against the page URL. `material`/`materialType` replace the file's
// materials unless `useEmbeddedMaterials` is true (STL has none: always ours).
//
// Axes, as rviz/Foxglove show ROS meshes: COLLADA follows its <up_axis> (Z_UP as is,
// Y_UP turned so +Y becomes +Z); glTF is Y-up by its spec and is turned the same way;
// OBJ and STL have no axis convention and are taken as is. `upAxis` ("y" | "z")
// overrides the choice for any format.
import * as THREE from 'three';
import { ColladaLoader } from 'three/examples/jsm/loaders/ColladaLoader.js';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { OBJLoader } from 'three/examples/jsm/loaders/OBJLoader.js';
import { STLLoader } from 'three/examples/jsm/loaders/STLLoader.js';
import { disposeMaterial, hasMaterialProps, makeMaterial, materialDefaults } from '../materials.js';
import { DEFAULTS } from '../schema.generated.js';
import { Element, any, disposeTree } from './base.js';

const Y_UP_TO_Z_UP = new THREE.Euler(Math.PI / 2, 0, 0);

// Each loader returns {object, upAxis} with upAxis the file's own convention.
const LOADERS = {
  Obj: async (url, manager) => ({ object: await new OBJLoader(manager).loadAsync(url), upAxis: 'z' }),
  Stl: async (url, manager) => {
    const geometry = await new STLLoader(manager).loadAsync(url);
    return { object: new THREE.Mesh(geometry, new THREE.MeshStandardMaterial()), upAxis: 'z', noMaterials: true };
  },
  Dae: async (url, manager) => {
    const text = await new THREE.FileLoader(manager).loadAsync(url);
    const { scene } = new ColladaLoader(manager).parse(text, THREE.LoaderUtils.extractUrlBase(url));
    // the loader turns Z_UP files to three's Y-up; this world is Z-up, so undo that
    scene.rotation.set(0, 0, 0);
    return { object: scene, upAxis: /<up_axis>\s*Z_UP\s*<\/up_axis>/.test(text) ? 'z' : 'y' };
  },
  Glb: async (url, manager) => ({ object: (await new GLTFLoader(manager).loadAsync(url)).scene, upAxis: 'y' }),
};

export class Model extends Element {
  update(props, changed) {
    if (any(changed, ['src', 'upAxis']) || this.src === undefined) this.load(props);
    else if (any(changed, ['material', 'materialType', 'useEmbeddedMaterials'])) this.applyMaterials(props);
  }

  load(props) {
    const tag = this.constructor.tag;
    this.src = props.src ?? null;
    const token = (this.token = (this.token ?? 0) + 1);
    if (!this.src) { this.replace(null, props); return; }
    const url = new URL(this.src, document.baseURI).href;
    const promise = LOADERS[tag](url, this.ctx.loads.manager).then((loaded) => {
      if (token !== this.token || this.disposed) {
        disposeTree(loaded.object); // superseded by a newer src, or the node is gone
        return;
      }
      const upAxis = props.upAxis === 'y' || props.upAxis === 'z' ? props.upAxis : loaded.upAxis;
      const inner = loaded.object;
      if (upAxis === 'y') inner.quaternion.multiplyQuaternions(new THREE.Quaternion().setFromEuler(Y_UP_TO_Z_UP), inner.quaternion);
      this.noMaterials = !!loaded.noMaterials;
      this.replace(new THREE.Group().add(inner), props);
    }, (err) => {
      if (token !== this.token || this.disposed) return;
      this.ctx.warn(`${tag} ${this.key}: cannot load ${url}: ${err?.message ?? err}`);
      this.replace(null, props);
    });
    this.ctx.loads.track(promise);
  }

  replace(group, props) {
    this.disposeOverride();
    if (this.content) this.disposeOriginals(this.content);
    if (this.content) this.holder.remove(this.content);
    this.content = null;
    this.originals = new Map();
    if (group) {
      group.traverse((obj) => {
        if (obj.material) this.originals.set(obj, obj.material);
      });
      this.content = group;
      this.holder.add(group);
      this.applyMaterials(props);
    }
    this.ctx.requestRender();
  }

  applyMaterials(props) {
    this.disposeOverride();
    const override = this.noMaterials || (hasMaterialProps(props) && props.useEmbeddedMaterials !== true);
    if (override) this.override = makeMaterial(props, materialDefaults(DEFAULTS[this.constructor.tag]));
    for (const [obj, original] of this.originals ?? []) obj.material = this.override ?? original;
  }

  disposeOverride() {
    if (this.override) disposeMaterial(this.override);
    this.override = null;
  }

  // geometries and the file's own materials (the override is freed separately)
  disposeOriginals(root) {
    root.traverse((obj) => { if (obj.geometry) obj.geometry.dispose(); });
    for (const material of this.originals?.values() ?? []) disposeMaterial(material);
  }

  dispose() {
    this.disposed = true;
    this.replace(null, {});
  }
}

export class Obj extends Model { static tag = 'Obj'; }
export class Stl extends Model { static tag = 'Stl'; }
export class Dae extends Model { static tag = 'Dae'; }
export class Glb extends Model { static tag = 'Glb'; }
