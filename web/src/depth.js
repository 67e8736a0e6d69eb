// Metric depth for grabs (ROS 32FC1: distance along the camera axis, metres).
//
// The colour pass already wrote a depth buffer; it is rendered into a float depth
// texture (DEPTH_COMPONENT32F), so every object type (points, wide lines, instances,
// billboards) gives its depth with its own shader. A full-screen pass turns window
// depth into -viewZ and stores the float's 32 bits in an RGBA8 target
// (floatBitsToUint): readPixels as bytes then gives exact little-endian float32, with
// no need for float render targets. Background (depth 1) becomes +Infinity.
import * as THREE from 'three';

const vertexShader = /* glsl */`
out vec2 vUv;
void main() {
  vUv = uv;
  gl_Position = vec4(position.xy, 0.0, 1.0);
}`;

const fragmentShader = /* glsl */`
precision highp float;
precision highp int;
uniform highp sampler2D tDepth;
uniform float near;
uniform float far;
uniform bool orthographic;
in vec2 vUv;
out highp vec4 fragColor;
void main() {
  float d = texture(tDepth, vUv).x;
  float z;  // distance in front of the camera
  if (d >= 1.0) {
    z = uintBitsToFloat(0x7f800000u);  // +Infinity: nothing hit
  } else if (orthographic) {
    z = near + d * (far - near);
  } else {
    // = near*far / (far - d*(far - near)), rearranged: that form cancels
    // catastrophically in float32 as d -> 1 (0.5% off at 1 m with near 0.01, far 1000)
    z = (near * far) / (far * (1.0 - d) + near * d);
  }
  uint bits = floatBitsToUint(z);
  fragColor = vec4(float(bits & 255u), float((bits >> 8) & 255u),
                      float((bits >> 16) & 255u), float(bits >> 24)) / 255.0;
}`;

export class DepthReader {
  constructor(renderer) {
    this.renderer = renderer;
    this.material = new THREE.ShaderMaterial({
      glslVersion: THREE.GLSL3,
      vertexShader, fragmentShader,
      uniforms: { tDepth: { value: null }, near: { value: 0.1 }, far: { value: 1000 }, orthographic: { value: false } },
      depthTest: false, depthWrite: false,
    });
    this.quad = new THREE.Mesh(new THREE.PlaneGeometry(2, 2), this.material);
    this.quad.frustumCulled = false;
    this.scene = new THREE.Scene();
    this.scene.add(this.quad);
    this.camera = new THREE.OrthographicCamera(-1, 1, 1, -1, 0, 1);
    this.target = null;
  }

  // source: the render target the colour pass used (with a depthTexture).
  // Returns width*height float32 (as a Uint8Array of its bytes), rows bottom-up.
  read(source, camera, width, height) {
    if (!this.target || this.target.width !== width || this.target.height !== height) {
      this.target?.dispose();
      this.target = new THREE.WebGLRenderTarget(width, height, { depthBuffer: false, generateMipmaps: false });
    }
    const u = this.material.uniforms;
    u.tDepth.value = source.depthTexture;
    u.near.value = camera.near;
    u.far.value = camera.far;
    u.orthographic.value = !!camera.isOrthographicCamera;
    const renderer = this.renderer;
    renderer.setRenderTarget(this.target);
    renderer.render(this.scene, this.camera);
    const bytes = new Uint8Array(width * height * 4);
    renderer.readRenderTargetPixels(this.target, 0, 0, width, height, bytes);
    renderer.setRenderTarget(null);
    return bytes;
  }
}
