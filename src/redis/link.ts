/**
 * What each layer of the Redis engine reads back from the one that built it: the engine builds a
 * topic's backend, the backend its members. Declared here so that a member and a backend name
 * no class above them, and the three files import each other one way only.
 */

/** What a topic's backend, and its members through it, use of the engine. */
export interface EngineLink {
  /** Runs one operation of the engine's Lua library on `topic`. */
  run(op: string, topic: string, args: (string | Buffer)[]): Promise<unknown>;
  /** First part of every key. */
  readonly prefix: string;
  readonly pollMs: number;
  readonly janitorMs: number;
  readonly leaseMs: number;
  /** Whether the connection is up: a command sent now is written at once, not queued until it reconnects. */
  readonly ready: boolean;
  /** Sends one command as it is (replies with bulk strings as Buffers). */
  send(args: (string | Buffer)[]): Promise<unknown>;
  /** A member of `backend` found nothing: wake it as soon as an entry is added to the stream. */
  watch(backend: BackendLink): void;
}

/** What a member uses of its topic's backend. */
export interface BackendLink {
  readonly engine: EngineLink;
  readonly ackTimeoutMs: number;
  /** The backend's members: a member leaving deletes itself. */
  readonly members: { delete(member: object): boolean };
  /** Runs one operation of the engine's Lua library on this topic. */
  run(op: string, args: (string | Buffer)[]): Promise<unknown>;
  refresh(): Promise<void>;
  /** Reads up to `count` new entries for `consumer` of `group` (`XREADGROUP … >`). */
  read(group: string, consumer: string, count: number): Promise<[Buffer, Buffer[]][]>;
  /** Adds `n` to counter `field` of `group`, in the background. */
  count(group: string, field: string, n: number): void;
  /** A fetch saw the stream up to `tail`. */
  seen(tail: number): void;
}
