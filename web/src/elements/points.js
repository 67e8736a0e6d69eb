// PointCloud: square points of a fixed size in metres (rviz POINTS), whatever the camera.
// gl_PointSize is computed from the projection: a length s at clip w covers
// s * P[1][1] * (viewport height / 2) / w pixels. `sizeY` makes the points rectangles
// (the square sprite is sized by the larger side, the rest discarded).
import * as THREE from 'three';
import { setGeometry } from '../geometry.js';
import { parseColor } from '../materials.js';
import { colorChannels, hasTranslucentAlpha, toColorBytes, toFloat32 } from '../packed.js';
import { DEFAULTS } from '../schema.generated.js';
import { Element, any } from './base.js';

const D = DEFAULTS.PointCloud;

const vertexShader = /* glsl */`
uniform float pointSize;
uniform float viewportHeight;
#ifdef HAS_COLOR
attribute vec4 pcolor;  // uint8 normalized; 3-channel data reads with alpha 1
#endif
varying vec4 vColor;
void main() {
  vec4 mvPosition = modelViewMatrix * vec4(position, 1.0);
  gl_Position = projectionMatrix * mvPosition;
  gl_PointSize = max(1.0, pointSize * projectionMatrix[1][1] * 0.5 * viewportHeight / gl_Position.w);
#ifdef HAS_COLOR
  vColor = pcolor;
#else
  vColor = vec4(1.0);
#endif
}`;

const fragmentShader = /* glsl */`
uniform vec3 color;
uniform float opacity;
uniform vec2 extent;  // fraction of the sprite covered in x and y
varying vec4 vColor;
void main() {
#ifdef RECTANGLE  // only then: a discard costs ~15% on SwiftShader even when never taken
  vec2 d = abs(gl_PointCoord - 0.5) * 2.0;
  if (d.x > extent.x || d.y > extent.y) discard;
#endif
  // per-point colours are sRGB bytes; light-free, but the pipeline works in linear
  vec3 rgb = sRGBTransferEOTF(vec4(vColor.rgb, 1.0)).rgb;
  gl_FragColor = vec4(color * rgb, opacity * vColor.a);
  #include <colorspace_fragment>
}`;

const viewport = new THREE.Vector4();

function setViewport(renderer) {
  renderer.getCurrentViewport(viewport);
  this.material.uniforms.viewportHeight.value = viewport.w;
}

export class PointCloud extends Element {
  update(props, changed) {
    if (!this.content) {
      const points = new THREE.Points();
      points.onBeforeRender = setViewport;
      this.setContent(points);
    }
    const points = this.content;
    let channels = this.channels ?? 0;
    let translucent = this.translucent ?? false;

    if (any(changed, ['vertices', 'colors']) || !this.built) {
      this.built = true;
      const positions = toFloat32(props.vertices) ?? new Float32Array(0);
      const count = Math.floor(positions.length / 3);
      const attrs = { position: { array: positions.subarray(0, count * 3), itemSize: 3 } };
      const colors = toColorBytes(props.colors);
      channels = colorChannels(colors, count);
      if (channels) attrs.pcolor = { array: colors, itemSize: channels, normalized: true };
      translucent = hasTranslucentAlpha(colors, channels);
      setGeometry(points, attrs);
    }

    const rectangle = typeof props.sizeY === 'number' && props.sizeY !== props.size;
    if (!this.materialBuilt || (channels > 0) !== (this.channels > 0) || translucent !== this.translucent
        || rectangle !== this.rectangle) {
      this.rectangle = rectangle;
      points.material.dispose();
      points.material = new THREE.ShaderMaterial({
        vertexShader, fragmentShader,
        defines: { ...(channels ? { HAS_COLOR: '' } : {}), ...(rectangle ? { RECTANGLE: '' } : {}) },
        uniforms: {
          pointSize: { value: D.size }, viewportHeight: { value: 1 },
          color: { value: new THREE.Color(1, 1, 1) }, opacity: { value: 1 }, extent: { value: new THREE.Vector2(1, 1) },
        },
      });
      this.materialBuilt = true;
      changed = new Set(['size', 'sizeY', 'material']);
    }

    if (any(changed, ['size', 'sizeY', 'material', 'colors'])) {
      const m = points.material;
      const spec = props.material && typeof props.material === 'object' ? props.material : {};
      const sx = typeof props.size === 'number' ? props.size : D.size;
      const sy = typeof props.sizeY === 'number' ? props.sizeY : sx;
      const side = Math.max(sx, sy, 1e-9);
      m.uniforms.pointSize.value = side;
      m.uniforms.extent.value.set(sx / side, sy / side);
      // per-point colours win over the material colour (rviz)
      m.uniforms.color.value.copy((channels ? null : parseColor(spec.color)) ?? parseColor(D.material.color));
      const opacity = Number(spec.opacity ?? 1);
      m.uniforms.opacity.value = opacity;
      m.transparent = spec.transparent ?? (translucent || opacity < 1);
      m.depthWrite = !m.transparent;
      m.depthTest = spec.depthTest ?? true;
    }
    this.channels = channels;
    this.translucent = translucent;
  }
}
