// What one render sees: for per-item culling and level of detail, computed once per
// render (a grab's camera, or the screen's) and handed to what draws view-dependently.
import * as THREE from 'three';

const frustum = new THREE.Frustum();
const viewProjection = new THREE.Matrix4();

// {scene, frustum, pxPerUnit(point)}: pixels per metre at a world point (Infinity at
// or behind the eye), for a render `heightPx` pixels high.
export function viewOf(scene, camera, heightPx) {
  camera.updateMatrixWorld();
  viewProjection.multiplyMatrices(camera.projectionMatrix, camera.matrixWorldInverse);
  frustum.setFromProjectionMatrix(viewProjection);
  const v = camera.matrixWorldInverse.elements;
  let pxPerUnit;
  if (camera.isPerspectiveCamera) {
    const focal = heightPx / 2 / Math.tan(THREE.MathUtils.degToRad(camera.fov) / 2) * camera.zoom;
    pxPerUnit = (p) => {
      const depth = -(v[2] * p.x + v[6] * p.y + v[10] * p.z + v[14]);
      return depth > camera.near ? focal / depth : Infinity; // at or behind the eye: full detail
    };
  } else {
    const scale = heightPx / ((camera.top - camera.bottom) / camera.zoom);
    pxPerUnit = () => scale;
  }
  return { scene, frustum, pxPerUnit };
}

