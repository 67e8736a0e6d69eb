// Grid and lights.
import * as THREE from 'three';
import { parseColor } from '../materials.js';
import { DEFAULTS } from '../schema.generated.js';
import { Element } from './base.js';

const Z = new THREE.Vector3(0, 0, 1);

// Grid lines in the XY plane, each cut into one segment per cell: SwiftShader drops a
// whole GL line that crosses the camera plane, which made every grid line that passes
// behind the camera vanish; short pieces lose only the piece behind the camera.
function gridLines(size, divisions, centerColor, color) {
  const half = size / 2;
  const step = size / divisions;
  const positions = [];
  const colors = [];
  for (let i = 0; i <= divisions; i++) {
    const k = -half + i * step;
    const c = 2 * i === divisions ? centerColor : color;
    for (let j = 0; j < divisions; j++) {
      const a = -half + j * step;
      positions.push(a, k, 0, a + step, k, 0, k, a, 0, k, a + step, 0);
      for (let n = 0; n < 4; n++) colors.push(c.r, c.g, c.b);
    }
  }
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.Float32BufferAttribute(positions, 3));
  geometry.setAttribute('color', new THREE.Float32BufferAttribute(colors, 3));
  return new THREE.LineSegments(geometry, new THREE.LineBasicMaterial({ vertexColors: true, toneMapped: false }));
}

// Grid: a square grid in the plane normal to the scene's `up` (the ground plane),
// `size` metres wide with `divisions` cells; `color` / `centerColor`.
export class Grid extends Element {
  update(props) {
    const D = DEFAULTS.Grid;
    const size = typeof props.size === 'number' ? props.size : D.size;
    const divisions = Math.max(1, Math.round(typeof props.divisions === 'number' ? props.divisions : D.divisions));
    this.setContent(gridLines(size, divisions,
      parseColor(props.centerColor) ?? parseColor(D.centerColor), parseColor(props.color) ?? parseColor(D.color)));
    this.sceneUp(this.ctx.up());
  }

  // the lines lie in XY (normal +Z): turn +Z onto `up`
  sceneUp(up) {
    if (this.content) this.content.quaternion.setFromUnitVectors(Z, up.clone().normalize());
  }
}

class LightElement extends Element {
  static isLight = true;
  makeLight() { throw new Error('abstract'); }

  update(props) {
    if (!this.content) this.setContent(this.makeLight());
    const light = this.content;
    if (typeof props.intensity === 'number') light.intensity = props.intensity;
    const color = parseColor(props.color);
    if (color) light.color.copy(color);
    this.configure?.(light, props);
  }
}

export class AmbientLight extends LightElement {
  makeLight() { return new THREE.AmbientLight(DEFAULTS.AmbientLight.color, DEFAULTS.AmbientLight.intensity); }
}

// Light from `position` (the node's) towards the world origin.
export class DirectionalLight extends LightElement {
  makeLight() { return new THREE.DirectionalLight(DEFAULTS.DirectionalLight.color, DEFAULTS.DirectionalLight.intensity); }
}

// Sky colour `color` from the scene's up side, `groundColor` from below.
export class HemisphereLight extends LightElement {
  makeLight() {
    const D = DEFAULTS.HemisphereLight;
    return new THREE.HemisphereLight(D.color, D.groundColor, D.intensity);
  }
  configure(light, props) {
    const ground = parseColor(props.groundColor);
    if (ground) light.groundColor.copy(ground);
    this.sceneUp(this.ctx.up());
  }

  // three takes the sky direction from the light's position
  sceneUp(up) {
    if (this.content) this.content.position.copy(up).normalize();
  }
}

// Light from the node's position in every direction, falling off as 1 / distance^decay.
export class PointLight extends LightElement {
  makeLight() {
    const D = DEFAULTS.PointLight;
    return new THREE.PointLight(D.color, D.intensity, D.distance, D.decay);
  }
  configure(light, props) {
    if (typeof props.distance === 'number') light.distance = props.distance;
    if (typeof props.decay === 'number') light.decay = props.decay;
  }
}
