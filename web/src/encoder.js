// Main-thread side of the image encoder: hands pixels to the worker (transferred, not
// copied) and resolves with the encoded bytes. The worker source is inlined into the
// bundle by build.mjs and started from a blob URL.
import workerSource from 'virtual:encode-worker';

const TIMEOUT_MS = 10000; // a request is always answered, even by a stuck worker

export class Encoder {
  constructor() {
    this.next = 1;
    this.waiting = new Map();
    const url = URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' }));
    this.worker = new Worker(url);
    this.worker.onmessage = ({ data }) => {
      const pending = this.waiting.get(data.id);
      if (!pending) return;
      this.waiting.delete(data.id);
      if (data.error) pending.reject(new Error(data.error));
      else pending.resolve(new Uint8Array(data.buffer));
    };
    this.worker.onerror = (event) => {
      const error = new Error(`encoder worker: ${event.message}`);
      for (const pending of this.waiting.values()) pending.reject(error);
      this.waiting.clear();
    };
  }

  // pixels: Uint8Array RGBA, rows bottom-up; format 'jpeg' | 'png'; quality 0-1.
  encode(pixels, width, height, format, quality) {
    const id = this.next++;
    const type = format === 'png' ? 'image/png' : 'image/jpeg';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no answer from the encoder in ${TIMEOUT_MS} ms`));
      }, TIMEOUT_MS);
      this.waiting.set(id, {
        resolve: (v) => { clearTimeout(timer); resolve(v); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.worker.postMessage({ id, width, height, pixels: pixels.buffer, type, quality }, [pixels.buffer]);
    });
  }
}
