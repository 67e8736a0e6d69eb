// The scene channel: one websocket, one msgpack map per binary frame, reconnecting
// on close (the server sends the whole scene with SET on every connect).
import { decode, encode } from '@msgpack/msgpack';

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 3000;

export class Connection {
  // handlers: onOpen(), onEvent(event, socket), onClose(closeEvent)
  constructor(url, handlers) {
    this.url = url;
    this.handlers = handlers;
    this.retryMs = RETRY_MIN_MS;
    this.socket = null;
    this.connect();
  }

  get open() { return this.socket?.readyState === WebSocket.OPEN; }

  connect() {
    let socket;
    try {
      socket = new WebSocket(this.url);
    } catch (err) {
      console.error(`vuer_ros: bad websocket URL ${this.url}: ${err}`);
      return;
    }
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.onopen = () => {
      this.retryMs = RETRY_MIN_MS;
      this.handlers.onOpen?.();
    };
    socket.onmessage = (message) => {
      if (!(message.data instanceof ArrayBuffer)) return; // the protocol is binary only
      let event;
      try {
        event = decode(new Uint8Array(message.data));
      } catch (err) {
        console.warn(`vuer_ros: undecodable message: ${err}`);
        return;
      }
      if (event && typeof event === 'object' && !Array.isArray(event)) this.handlers.onEvent(event, socket);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.handlers.onClose?.(event);
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    };
    // onerror is always followed by onclose, which retries
  }

  // Send a client event {ts, etype, key, value}; `socket` pins it to the connection a
  // request came on (an answer must not go to a newer session).
  send(etype, value, key = null, socket = this.socket) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(encode({ ts: Date.now(), etype, key, value }));
    return true;
  }
}
