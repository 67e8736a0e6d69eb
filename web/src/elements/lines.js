// Line: a strip (rviz LINE_STRIP) or pairs (`segments`, rviz LINE_LIST), drawn as
// wide lines (Line2 / LineSegments2) so `lineWidth` works at any width, in pixels or
// in metres (`worldUnits`), with optional per-vertex colours.
import * as THREE from 'three';
import { Line2 } from 'three/examples/jsm/lines/Line2.js';
import { LineGeometry } from 'three/examples/jsm/lines/LineGeometry.js';
import { LineMaterial } from 'three/examples/jsm/lines/LineMaterial.js';
import { LineSegments2 } from 'three/examples/jsm/lines/LineSegments2.js';
import { LineSegmentsGeometry } from 'three/examples/jsm/lines/LineSegmentsGeometry.js';
import { linearColors, parseColor } from '../materials.js';
import { colorChannels, toColorBytes, toFloat32 } from '../packed.js';
import { DEFAULTS } from '../schema.generated.js';
import { Element } from './base.js';

const D = DEFAULTS.Line;
const WORLD_LINE_WIDTH = 0.01; // metres: the lineWidth of a worldUnits line without one (schema doc)
const viewport = new THREE.Vector4();

// three's own hook reads the canvas viewport; a grab renders into a target of another
// size, so take the viewport actually in use.
function setResolution(renderer) {
  renderer.getCurrentViewport(viewport);
  this.material.resolution.set(viewport.z, viewport.w);
}

export class Line extends Element {
  update(props) {
    const all = toFloat32(props.points);
    let count = all ? Math.floor(all.length / 3) : 0;
    const segments = props.segments === true;
    if (segments) count -= count % 2;
    if (count < 2) { this.setContent(null); return; }
    const positions = all.subarray(0, count * 3);

    const geometry = segments ? new LineSegmentsGeometry() : new LineGeometry();
    geometry.setPositions(positions);

    const spec = props.material && typeof props.material === 'object' ? props.material : {};
    let opacity = Number(spec.opacity ?? 1);
    // `vertexColors` holds the colours (or is just `true` beside a `colors` prop)
    const bytes = toColorBytes(typeof props.vertexColors === 'object' ? props.vertexColors : props.colors);
    const channels = colorChannels(bytes, count);
    if (channels) {
      geometry.setColors(linearColors(bytes, channels, count, 3));
      // LineMaterial has no per-vertex alpha: the mean alpha becomes the line's opacity
      if (channels === 4) {
        let alphaSum = 0;
        for (let i = 0; i < count; i++) alphaSum += bytes[i * 4 + 3];
        opacity *= alphaSum / 255 / count;
      }
    }

    const worldUnits = props.worldUnits === true;
    const material = new LineMaterial({
      color: (channels ? null : parseColor(spec.color ?? props.color)) ?? parseColor(D.material.color),
      linewidth: typeof props.lineWidth === 'number' ? props.lineWidth : (worldUnits ? WORLD_LINE_WIDTH : D.lineWidth),
      worldUnits,
      vertexColors: channels > 0,
      opacity,
      transparent: spec.transparent ?? opacity < 1,
      depthTest: spec.depthTest ?? true,
    });
    material.depthWrite = !material.transparent;

    const line = segments ? new LineSegments2(geometry, material) : new Line2(geometry, material);
    line.onBeforeRender = setResolution;
    this.setContent(line);
  }
}
