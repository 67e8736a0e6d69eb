// The Scene node at the root of the graph: its world `up` and `background` go to the
// viewer (a Scene nested in the tree is not one: scene.js draws it as an unknown tag).
import { Element } from './base.js';

export class SceneRoot extends Element {
  update(props, changed) {
    if (changed.has('up') || !this.started) this.ctx.setUp(props.up);
    if (changed.has('background') || !this.started) this.ctx.setBackground(props.background);
    this.started = true;
  }
}
