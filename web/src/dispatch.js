const SCENE_ETYPES = new Set(['SET', 'UPDATE', 'ADD', 'UPSERT', 'REMOVE']);

// Applies server events strictly in arrival order. Scene events are synchronous; an
// RPC handler may return a promise (a grab waiting for a model to load), and then
// later events wait for it, so an answer always shows exactly the events before it.
export class Dispatcher {
  constructor(graph, handlers) {
    this.graph = graph;
    this.handlers = handlers; // {GRAB_RENDER(event, reply), applied(event), changed()}
    this.queue = [];
    this.busy = false;
    this.applied = 0;
    this.applyMs = 0; // time spent applying scene events, read (and reset) by each grab
  }

  takeApplyMs() {
    const ms = this.applyMs;
    this.applyMs = 0;
    return ms;
  }

  push(event, reply) {
    event.receivedAt = performance.now();
    this.queue.push({ event, reply });
    if (!this.busy) this.drain();
  }

  drain() {
    let changed = false;
    while (this.queue.length) {
      const { event, reply } = this.queue.shift();
      let pending;
      const t0 = performance.now();
      try {
        pending = this.apply(event, reply);
      } catch (err) {
        console.warn(`vuer_ros: ${event.etype}: ${err?.stack ?? err}`);
        // a request is always answered
        if (typeof event.rtype === 'string') reply({ error: String(err?.message ?? err) });
      }
      if (SCENE_ETYPES.has(event.etype)) { // others (a grab, the node's status) draw nothing
        changed = true;
        this.applyMs += performance.now() - t0;
      }
      if (pending) {
        this.busy = true;
        if (changed) this.handlers.changed();
        pending.catch((err) => console.warn(`vuer_ros: ${event.etype}: ${err}`)).finally(() => {
          this.busy = false;
          this.count(event);
          this.drain();
        });
        return;
      }
      this.count(event);
    }
    if (changed) this.handlers.changed();
  }

  count(event) {
    this.applied++;
    this.handlers.applied?.(event);
  }

  apply(event, reply) {
    const data = event.data;
    const graph = this.graph;
    switch (event.etype) {
      case 'SET': graph.set(data); return undefined;
      case 'UPDATE': graph.update(data?.nodes, !!data?.strict); return undefined;
      case 'ADD': graph.add(data?.nodes, data?.to ?? null); return undefined;
      case 'UPSERT': graph.upsert(data?.nodes, data?.to ?? null, !!data?.strict); return undefined;
      case 'REMOVE': graph.remove(data?.keys); return undefined;
      default: {
        const handler = this.handlers[event.etype];
        if (handler) return handler(event, reply);
        // an RPC we do not implement is still answered, so the server does not wait out its timeout
        if (typeof event.rtype === 'string') reply({ error: `unsupported request ${event.etype}` });
        return undefined;
      }
    }
  }
}
