// Pending asset loads (models and the textures they pull in). A grab that arrives
// while something is loading waits for it (up to a limit), so a frame never misses
// geometry that is already in the scene.
import * as THREE from 'three';

export class Loads {
  constructor(onLoaded) {
    this.pending = 0;
    this.waiters = [];
    this.onLoaded = onLoaded;
    // every loader is given this manager, so texture fetches inside a model count too
    this.manager = new THREE.LoadingManager();
    const { itemStart, itemEnd } = this.manager;
    this.manager.itemStart = (url) => { this.pending++; itemStart(url); };
    this.manager.itemEnd = (url) => { itemEnd(url); this.done(); };
  }

  // Count a promise (e.g. parsing after the fetch) as pending until it settles.
  track(promise) {
    this.pending++;
    const done = () => this.done();
    promise.then(done, done);
    return promise;
  }

  done() {
    this.pending = Math.max(0, this.pending - 1);
    this.onLoaded();
    if (this.pending === 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  // Resolves when nothing is loading, or after timeoutMs, whichever comes first.
  whenIdle(timeoutMs) {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      setTimeout(resolve, timeoutMs);
    });
  }
}
