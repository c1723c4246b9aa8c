/**
 * The MessagePort engine's wire protocol. Every message is structured-clonable: plain objects,
 * arrays, strings and numbers, and message values as given.
 *
 * Client to server, posted as an array of {@link ClientMessage} per turn:
 * - calls (`id` set) get one reply: `hello`, `topic`, `publish`, `member`, `commit`, `seek`,
 *   `deleteGroup`, `stats`, `closeTopic`, `destroyTopic`, `closeMember`, `bye` (the server answers
 *   once it has handled everything sent before, then closes the connection);
 * - notices (no reply): `demand`, `settle`, `leave`, `cancel`, `ping`.
 *
 * Server to client, posted as an array of {@link ServerMessage} per turn: replies (the last reply
 * of a turn about a topic carries its stats), `deliveries` pushed to a member up to its demand,
 * `stale` tokens, and `done` when a member has nothing more.
 *
 * Where there are Web Locks, each side holds a lock for as long as it lives and names it to the
 * other (the client in `hello`, the server in its {@link Welcome}), which waits for that lock:
 * granted, the other side is gone (see lease.ts).
 */
import { ClosedError, CodecError, type CodecErrorReason, ConfigError, StorageError, TimeoutError, TopicFullError } from '../../errors.js';
import type { Settlement, EngineTopicOptions, MemberOptions } from '../../engine.js';
import type { Headers, PublishOptions, TopicStats } from '../../types.js';

export const PROTOCOL_VERSION = 2;

export type Call =
  | { op: 'hello'; version: number; heartbeatMs: number; lock?: string }
  | { op: 'topic'; topic: number; name: string; options: EngineTopicOptions | undefined }
  /** `options` absent: none set. `cancellable`: the client may send `cancel` for it (its publish had a signal). */
  | { op: 'publish'; topic: number; entries: WireEntry[]; cancellable?: true }
  | { op: 'member'; topic: number; member: number; options: MemberOptions }
  | { op: 'commit' | 'seek'; member: number; offset: number }
  | { op: 'deleteGroup'; topic: number; group: string }
  | { op: 'stats' | 'closeTopic' | 'destroyTopic'; topic: number }
  | { op: 'closeMember'; member: number }
  | { op: 'bye' };

export interface WireEntry {
  value: unknown;
  options?: Pick<PublishOptions, 'key' | 'headers' | 'ttlMs'>;
}

/** The server's answer to `hello`: its protocol version, and the Web Lock it holds while it serves. */
export interface Welcome {
  version: number;
  lock?: string;
}

export type Notice =
  | { op: 'demand'; member: number; want: number; received: number }
  | { op: 'settle'; member: number; token: number; how: Settlement }
  | { op: 'leave'; member: number }
  | { op: 'cancel'; call: number }
  | { op: 'ping' };

export type ClientMessage = (Call & { id: number }) | Notice;

/** One delivery as it crosses: `token` names it for settling; `settled` for `ack: 'auto'`. */
export interface WireDelivery {
  token: number;
  offset: number;
  value: unknown;
  key: string | undefined;
  headers: Headers;
  timestamp: number;
  deliveryCount: number;
  settled: boolean;
}

export type ServerMessage =
  | { kind: 'reply'; id: number; value?: unknown; stats?: TopicStats; error?: WireError }
  | { kind: 'deliveries'; member: number; items: WireDelivery[] }
  | { kind: 'done'; member: number; error?: WireError }
  | { kind: 'stale'; member: number; tokens: number[] };

/** An error as it crosses: its class by name, and the fields each class carries. */
export interface WireError {
  name: string;
  message: string;
  option?: string;
  reason?: string;
  topic?: string;
}

export function toWire(e: unknown): WireError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const out: WireError = { name: e.name, message: e.message };
  const fields = e as { option?: unknown; reason?: unknown; topic?: unknown };
  if (typeof fields.option === 'string') out.option = fields.option;
  if (typeof fields.reason === 'string') out.reason = fields.reason;
  if (typeof fields.topic === 'string') out.topic = fields.topic;
  return out;
}

/** The same error class on this side, with the same code, message and fields. */
export function fromWire(w: WireError): Error {
  switch (w.name) {
    case 'ConfigError':
      return new ConfigError(w.option ?? '', w.message);
    case 'ClosedError':
      return new ClosedError(w.message);
    case 'TimeoutError':
      return new TimeoutError(w.message);
    case 'StorageError':
      return new StorageError(w.message);
    case 'CodecError':
      return new CodecError((w.reason ?? 'decode-error') as CodecErrorReason, w.message);
    case 'TopicFullError': {
      const e = new TopicFullError(w.topic ?? '', 0);
      e.message = w.message;
      return e;
    }
    default: {
      const e = new Error(w.message);
      e.name = w.name;
      return e;
    }
  }
}

/**
 * What either side needs of a port: `postMessage`, and messages through `addEventListener`
 * (a MessagePort, Worker, SharedWorker's port, worker_threads' MessagePort) or `onmessage`, or
 * `on` (worker_threads' Worker and parentPort).
 */
export interface MessagePortLike {
  postMessage(message: any): void;
  addEventListener?(type: string, listener: (event: any) => void): void;
  removeEventListener?(type: string, listener: (event: any) => void): void;
  on?(type: string, listener: (...args: any[]) => void): unknown;
  off?(type: string, listener: (...args: any[]) => void): unknown;
  onmessage?: ((event: any) => void) | null;
  start?(): void;
  close?(): void;
}

/**
 * Listens on `port` for messages and for its closing (the 'close' event worker_threads' MessagePort
 * emits when either side is closed or its thread ends; `exit` of a worker_threads Worker). Returns
 * the function that stops listening.
 */
export function listen(port: MessagePortLike, onMessage: (data: unknown) => void, onClose: () => void): () => void {
  if (typeof port.addEventListener === 'function') {
    const message = (event: { data?: unknown }): void => onMessage(event.data);
    const close = (): void => onClose();
    port.addEventListener('message', message);
    port.addEventListener('close', close);
    port.start?.();
    return () => {
      port.removeEventListener?.('message', message);
      port.removeEventListener?.('close', close);
    };
  }
  if (typeof port.on === 'function') {
    const close = (): void => onClose();
    port.on('message', onMessage);
    port.on('close', close);
    port.on('exit', close);
    return () => {
      port.off?.('message', onMessage);
      port.off?.('close', close);
      port.off?.('exit', close);
    };
  }
  port.onmessage = (event) => onMessage(event.data);
  port.start?.();
  return () => {
    port.onmessage = null;
  };
}

/** A timer that does not keep a Node process alive (a no-op in browsers, whose timers never do). */
export function unref<H>(handle: H): H {
  (handle as { unref?: () => void }).unref?.();
  return handle;
}
