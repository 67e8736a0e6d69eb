// Node transforms: `matrix` (16 numbers, column-major) wins over the rest; otherwise
// `position`, then `quaternion` [x,y,z,w] (wins over `rotation`, XYZ Euler radians),
// then `scale` (number or [x,y,z]) unless the element uses `scale` for something else.
export const TRANSFORM_PROPS = ['position', 'quaternion', 'rotation', 'scale', 'matrix'];

function vec3(value) {
  return Array.isArray(value) && value.length >= 3 && value.slice(0, 3).every(Number.isFinite) ? value : null;
}

export function applyTransform(object, props, scaleIsTransform = true) {
  const m = props.matrix;
  if (Array.isArray(m) && m.length === 16 && m.every(Number.isFinite)) {
    // kept as given (a decomposition would lose shear); three stops recomputing it
    object.matrixAutoUpdate = false;
    object.matrix.fromArray(m);
    object.matrix.decompose(object.position, object.quaternion, object.scale);
    object.matrixWorldNeedsUpdate = true;
    return;
  }
  object.matrixAutoUpdate = true;
  const p = vec3(props.position);
  object.position.set(p ? p[0] : 0, p ? p[1] : 0, p ? p[2] : 0);

  const q = props.quaternion;
  const r = vec3(props.rotation);
  if (Array.isArray(q) && q.length === 4 && q.every(Number.isFinite)) {
    // all-zero quaternion = identity, a non-unit one is normalised (as rviz does)
    if (q[0] === 0 && q[1] === 0 && q[2] === 0 && q[3] === 0) object.quaternion.identity();
    else object.quaternion.set(q[0], q[1], q[2], q[3]).normalize();
  } else if (r) {
    object.rotation.set(r[0], r[1], r[2], 'XYZ');
  } else {
    object.quaternion.identity();
  }

  const s = props.scale;
  if (scaleIsTransform && typeof s === 'number' && Number.isFinite(s)) object.scale.setScalar(s);
  else if (scaleIsTransform && vec3(s)) object.scale.set(s[0], s[1], s[2]);
  else object.scale.set(1, 1, 1);
}
