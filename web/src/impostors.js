// Batched spheres small on screen drawn as one point each, shaded by casting each
// pixel's view ray at the true ellipsoid (a "sphere impostor"): one vertex instead of
// 48-350 triangles. On SwiftShader the spheres of a 1,000-marker array were a third
// of the drawing; as impostors they cost a fraction of that.
//
// Exact, not approximate: a pixel is drawn when the ray through its centre meets the
// ellipsoid (the silhouette the tessellated sphere tends to), its normal and depth
// are the hit point's, and the material's own lighting code shades it (the shader
// chunks read the hit through locals that shadow vNormal and vViewPosition). Used
// only for items entirely inside the view (a point is clipped by its centre) and
// whose axes are orthogonal (a rotated, scaled sphere: the ray transform is then the
// axes divided by their squared lengths). batches.js decides which items qualify.
import * as THREE from 'three';

// `material`: a batch chunk's material that already pulls item poses (batches.js).
// Returns it, drawing each item of a THREE.Points as an impostor; `uniforms` (the
// camera's projection and the viewport) are kept current by impostorPoints.
function impostorMaterial(material, uniforms) {
  const pull = material.onBeforeCompile;
  material.onBeforeCompile = (shader, renderer) => {
    pull(shader, renderer);
    Object.assign(shader.uniforms, uniforms);
    const declarations = `uniform mat4 sphereProjection;
uniform mat4 sphereProjectionInverse;
uniform vec4 sphereViewport;
flat varying vec3 vSphereCentre;
flat varying vec3 vSphereInv0;
flat varying vec3 vSphereInv1;
flat varying vec3 vSphereInv2;`;
    shader.vertexShader = shader.vertexShader
      .replace('#include <common>', `#include <common>\n${declarations}`)
      .replace('#include <project_vertex>', `#include <project_vertex>
  {
    // the ellipsoid's axes in view space; the inverse of orthogonal axes is their
    // transpose divided by their squared lengths
    mat3 toView = mat3(modelViewMatrix);
    vec3 a0 = toView * vec3(itemRow0.x, itemRow1.x, itemRow2.x);
    vec3 a1 = toView * vec3(itemRow0.y, itemRow1.y, itemRow2.y);
    vec3 a2 = toView * vec3(itemRow0.z, itemRow1.z, itemRow2.z);
    vSphereInv0 = a0 / dot(a0, a0);
    vSphereInv1 = a1 / dot(a1, a1);
    vSphereInv2 = a2 / dot(a2, a2);
    vSphereCentre = mvPosition.xyz;
    float radius = sqrt(max(dot(a0, a0), max(dot(a1, a1), dot(a2, a2))));
    float focal = 0.5 * max(projectionMatrix[0][0] * sphereViewport.z, projectionMatrix[1][1] * sphereViewport.w);
    float halfSide;
    if (isOrthographic) {
      halfSide = radius * focal;
    } else {
      // the silhouette cone around the eye-to-centre ray, half-angle alpha, at angle
      // theta off the optical axis: its image reaches tan(theta + alpha) on the far side
      float d = length(mvPosition.xyz);
      float theta = acos(clamp(-mvPosition.z / d, -1.0, 1.0));
      float alpha = asin(min(radius / d, 1.0));
      halfSide = focal * (tan(min(theta + alpha, 1.55)) - tan(theta));
    }
    gl_PointSize = 2.0 * halfSide + 2.0;
  }`);
    shader.fragmentShader = shader.fragmentShader
      .replace('#include <common>', `#include <common>\n${declarations}`)
      .replace('void main() {', `void main() {
  vec3 sphereHit, sphereNormal;
  {
    // this pixel's view ray, in the ellipsoid's own frame (where it is the unit sphere)
    vec2 ndc = (gl_FragCoord.xy - sphereViewport.xy) / sphereViewport.zw * 2.0 - 1.0;
    vec4 onNear = sphereProjectionInverse * vec4(ndc, -1.0, 1.0);
    vec3 from = isOrthographic ? onNear.xyz / onNear.w : vec3(0.0);
    vec3 dir = isOrthographic ? vec3(0.0, 0.0, -1.0) : onNear.xyz / onNear.w;
    vec3 rel = from - vSphereCentre;
    vec3 o = vec3(dot(vSphereInv0, rel), dot(vSphereInv1, rel), dot(vSphereInv2, rel));
    vec3 k = vec3(dot(vSphereInv0, dir), dot(vSphereInv1, dir), dot(vSphereInv2, dir));
    float a = dot(k, k), b = dot(o, k), c = dot(o, o) - 1.0;
    float disc = b * b - a * c;
    if (disc < 0.0) discard;
    float t = (-b - sqrt(disc)) / a;
    vec3 onUnit = o + t * k;   // also the unit sphere's normal there
    sphereHit = from + t * dir;
    sphereNormal = vSphereInv0 * onUnit.x + vSphereInv1 * onUnit.y + vSphereInv2 * onUnit.z;
    vec4 clip = sphereProjection * vec4(sphereHit, 1.0);
    gl_FragDepth = 0.5 * clip.z / clip.w + 0.5;
  }
  // what the material's chunks read as the surface point and normal
  vec3 vViewPosition = -sphereHit;
  vec3 vNormal = sphereNormal;`);
  };
  material.customProgramCacheKey = () => 'batchedSphereImpostor';
  return material;
}

// A THREE.Points of `geometry` (one vertex per item) drawing impostors with `material`.
export function impostorPoints(geometry, material) {
  const uniforms = {
    sphereProjection: { value: new THREE.Matrix4() },
    sphereProjectionInverse: { value: new THREE.Matrix4() },
    sphereViewport: { value: new THREE.Vector4() },
  };
  const points = new THREE.Points(geometry, impostorMaterial(material, uniforms));
  points.onBeforeRender = (renderer, scene, camera) => {
    uniforms.sphereProjection.value.copy(camera.projectionMatrix);
    uniforms.sphereProjectionInverse.value.copy(camera.projectionMatrixInverse);
    renderer.getCurrentViewport(uniforms.sphereViewport.value);
  };
  return points;
}

// The one-vertex shape an impostor item is drawn from.
export function impostorShape() {
  const shape = new THREE.BufferGeometry();
  shape.setAttribute('position', new THREE.Float32BufferAttribute([0, 0, 0], 3));
  shape.setAttribute('normal', new THREE.Float32BufferAttribute([0, 0, 1], 3));
  return shape;
}

// The largest sphere radius on screen (pixels) drawn as an impostor, for a GL whose
// points are at most `maxPointSize` across (WebGL promises only 1; SwiftShader 1023).
// Off the image centre a sphere's image grows by 1/cos^2 of the angle off the axis
// (4x at the corner of a 120-degree view): the point must still hold it.
export function impostorMaxRadiusPx(maxPointSize) {
  return Math.min(64, (maxPointSize - 2) / 10);
}
