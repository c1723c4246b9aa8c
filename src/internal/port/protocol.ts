/**
 * The MessagePort engine's wire protocol. Every message is structured-clonable: plain objects,
 * arrays, strings and numbers, and message values as given.
 *
 * Client to server, posted as an array of {@link ClientMessage} per turn:
 * - calls (`id` set) get one reply (one-value publishes go as a {@link PublishRun}, and their
 *   replies as {@link Published}): `hello`, `topic`, `publish`, `member`, `commit`, `seek`,
 *   `deleteGroup`, `stats`, `closeTopic`, `destroyTopic`, `closeMember`, `bye` (the server answers
 *   once it has handled everything sent before, then closes the connection);
 * - notices (no reply): `demand`, `settle`, `acks`, `leave`, `cancel`, `ping`.
 *
 * Server to client, posted as arrays of {@link ServerMessage}, one per turn except that a
 * `deliveries` message (at most 256) ends its array: replies (the last reply of a turn about a
 * topic carries its stats), `deliveries` pushed to a member up to its demand,
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
  options?: Pick<PublishOptions, 'key' | 'headers' | 'ttlMs' | 'delayMs' | 'deliverAt' | 'priority'>;
}

/** The server's answer to `hello`: its protocol version, and the Web Lock it holds while it serves. */
export interface Welcome {
  version: number;
  lock?: string;
}

export type Notice =
  | { op: 'demand'; member: number; want: number; received: number }
  | { op: 'settle'; member: number; token: number; how: Settlement }
  /** Acks of one member, in the order given: the common settle, one array per run. */
  | { op: 'acks'; member: number; tokens: number[] }
  | { op: 'leave'; member: number }
  | { op: 'cancel'; call: number }
  | { op: 'ping' };

/** Calls `first`, `first + 1`, …: each a `publish` of one value without options or signal to `topic`, the common call, as one run. */
export interface PublishRun {
  op: 'publishes';
  topic: number;
  first: number;
  values: unknown[];
}

export type ClientMessage = (Call & { id: number }) | Notice | PublishRun;

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

/**
 * Deliveries to a member, by column (an array of numbers clones faster than as many objects):
 * tokens run up from `first`; a column left out holds its default for every row — key
 * `undefined`, no headers, `deliveryCount` 1, `settled` false.
 */
export interface WireDeliveries {
  kind: 'deliveries';
  member: number;
  first: number;
  offsets: number[];
  values: unknown[];
  timestamps: number[];
  keys?: (string | undefined)[];
  headers?: Headers[];
  deliveryCounts?: number[];
  settled?: boolean[];
}

const NO_HEADERS: Headers = Object.freeze({});

/** The columns of `items` (consecutive tokens), leaving out those that hold only defaults. */
export function toColumns(member: number, items: readonly WireDelivery[]): WireDeliveries {
  const m: WireDeliveries = { kind: 'deliveries', member, first: items[0]!.token, offsets: [], values: [], timestamps: [] };
  let plain = true;
  for (const d of items) {
    m.offsets.push(d.offset);
    m.values.push(d.value);
    m.timestamps.push(d.timestamp);
    if (d.key !== undefined || d.deliveryCount !== 1 || d.settled || Object.keys(d.headers).length > 0) plain = false;
  }
  if (!plain) {
    m.keys = items.map((d) => d.key);
    m.headers = items.map((d) => d.headers);
    m.deliveryCounts = items.map((d) => d.deliveryCount);
    m.settled = items.map((d) => d.settled);
  }
  return m;
}

/** The deliveries of a {@link WireDeliveries}, one object each. */
export function fromColumns(m: WireDeliveries): WireDelivery[] {
  const out: WireDelivery[] = new Array(m.offsets.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = {
      token: m.first + i,
      offset: m.offsets[i]!,
      value: m.values[i],
      key: m.keys?.[i],
      headers: m.headers?.[i] ?? NO_HEADERS,
      timestamp: m.timestamps[i]!,
      deliveryCount: m.deliveryCounts?.[i] ?? 1,
      settled: m.settled?.[i] ?? false,
    };
  }
  return out;
}

/** Replies to one-value publishes on topic `topic`: call `ids[i]` published at `offsets[i]`. */
export interface Published {
  kind: 'published';
  topic: number;
  ids: number[];
  offsets: number[];
  stats?: TopicStats;
}

export type ServerMessage =
  | { kind: 'reply'; id: number; value?: unknown; stats?: TopicStats; error?: WireError }
  | Published
  | WireDeliveries
  | { kind: 'done'; member: number; error?: WireError }
  | { kind: 'stale'; member: number; tokens: number[] }
  /** The server's last word: it ends the connection (stops serving, or took a silent client for gone). */
  | { kind: 'closed'; error: WireError };

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
