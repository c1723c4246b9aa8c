import { randomUUID } from 'node:crypto';
import { encode } from '@msgpack/msgpack';
import type { MemberOptions, MemberPort, PublishEntry, TopicBackend } from '../engine.js';
import { ClosedError, TopicFullError } from '../errors.js';
import { emptyStats } from '../internal/api/engine-topic.js';
import type { GroupStats, OverflowPolicy, TopicStats } from '../types.js';
import type { BackendLink, EngineLink } from './link.js';
import { offsetOf } from './item.js';
import { RedisMember } from './member.js';

/** What the stats operation answers (JSON). */
interface ServerStats {
  capacity: number;
  size: number;
  head: number;
  tail: number;
  published: number;
  rejected: number;
  dropped: number;
  expired: number;
  agedOut: number;
  deadLetterDropped: number;
  subscribers: number;
  closed: boolean;
  groups: Record<string, GroupStats> | unknown[];
}

/** The entries of an `XREADGROUP` reply on one stream: RESP2 answers `[[key, entries]]`, RESP3 a map. */
function entriesOf(reply: unknown): [Buffer, Buffer[]][] {
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) return ((reply[0] as [unknown, [Buffer, Buffer[]][]] | undefined)?.[1] ?? []);
  if (reply instanceof Map) return ([...reply.values()][0] as [Buffer, Buffer[]][] | undefined) ?? [];
  return (Object.values(reply as object)[0] as [Buffer, Buffer[]][] | undefined) ?? [];
}

/** One publish call: its entries as call arguments, and the offsets admitted so far. */
interface Publication {
  readonly seq: number;
  args: (string | Buffer)[];
  readonly offsets: number[];
  readonly signal: AbortSignal | undefined;
  resolve(offsets: number[]): void;
  reject(e: unknown): void;
}

const ARGS_PER_ENTRY = 5;
const NONE: (string | Buffer)[] = [];
/** Publishes of one turn are sent together up to this many entries per call. */
const MAX_ENTRIES_PER_CALL = 512;
/**
 * How long a publisher fills the places a publish call leased it, from when it sent that call.
 * The server holds the lease for 3000 ms from when it ran the call (LEASE_HOLD in lua-core.ts).
 */
const LEASE_USE_MS = 1000;
const V = Buffer.from('v');
const T = Buffer.from('t');
const K = Buffer.from('k');
const H = Buffer.from('h');

function entryArgs(e: PublishEntry): (string | Buffer)[] {
  const bytes = encode(e.value);
  const hasHeaders = e.headers !== undefined && Object.keys(e.headers).length > 0;
  return [
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    e.key ?? '',
    e.key === undefined ? '0' : '1',
    hasHeaders ? JSON.stringify(e.headers) : '',
    String(e.ttlMs ?? 0),
  ];
}

/**
 * A topic on Redis: a stream and its consumer groups, driven by the engine's Lua functions. Publishes
 * are pipelined while there is room; once one finds the topic full (`block`), it and every later
 * publish wait, in order, retrying as room is made.
 */
export class RedisBackend implements TopicBackend, BackendLink {
  readonly members = new Set<RedisMember<unknown>>();
  private snapshot: TopicStats;
  /** The highest tail a publish answered (the snapshot takes it when read). */
  private tail = 0;
  private refreshing: Promise<void> | undefined = undefined;
  private readonly waiting: Publication[] = [];
  private retry: ReturnType<typeof setTimeout> | undefined = undefined;
  private backoff = 1;
  private sent = 0;
  private readonly janitor: ReturnType<typeof setInterval>;

  /** The stream's key. */
  private readonly key: string;
  /** This publisher's name in the topic's leases. */
  private readonly publisher = randomUUID();
  /** Places leased to this publisher that it may still fill with plain XADDs, until `leaseUntil` (its clock). */
  private leaseLeft = 0;
  private leaseUntil = 0;
  /** Publish calls sent: only the answer to the last one sent grants a lease (each call ends the one before). */
  private calls = 0;

  constructor(
    readonly engine: EngineLink,
    readonly name: string,
    readonly overflow: OverflowPolicy,
    readonly ackTimeoutMs: number,
    capacity: number,
  ) {
    this.key = `${engine.prefix}:{${name}}:s`;
    this.snapshot = emptyStats(name, capacity);
    this.janitor = setInterval(() => void this.refresh(), engine.janitorMs);
    this.janitor.unref?.();
  }

  run(op: string, args: (string | Buffer)[]): Promise<unknown> {
    return this.engine.run(op, this.name, args);
  }

  /** Reads new entries with a plain `XREADGROUP` (the member counts them as delivered, see {@link count}). */
  read(group: string, consumer: string, count: number): Promise<[Buffer, Buffer[]][]> {
    return this.engine.send(['XREADGROUP', 'GROUP', group, consumer, 'COUNT', String(count), 'STREAMS', this.key, '>']).then(entriesOf);
  }

  /** Adds `n` to counter `field` of `group` (sent, not awaited: a failure shows in the figures only). */
  count(group: string, field: string, n: number): void {
    this.engine.send(['HINCRBY', `${this.engine.prefix}:{${this.name}}:g:${group}`, field, String(n)]).catch(() => undefined);
  }

  publish(entries: readonly PublishEntry[], signal?: AbortSignal): Promise<number[]> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    let args: (string | Buffer)[];
    try {
      if (entries.length === 1) args = entryArgs(entries[0]!);
      else {
        args = [];
        for (const e of entries) args.push(...entryArgs(e));
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<number[]>((resolve, reject) => {
      const p: Publication = { seq: this.sent++, args, offsets: [], signal, resolve, reject };
      if (signal !== undefined) {
        signal.addEventListener(
          'abort',
          () => {
            const i = this.waiting.indexOf(p);
            if (i > 0 || (i === 0 && this.retry !== undefined)) {
              this.waiting.splice(i, 1);
              reject(signal.reason);
              this.updateWaiting();
            }
          },
          { once: true },
        );
      }
      if (this.waiting.length > 0) {
        this.waiting.push(p);
        this.updateWaiting();
      } else if (this.overflow === 'reject') {
        if (this.leased(p)) this.plain(p);
        else this.send([p]);
      } else {
        // publishes of one turn go in one call (under 'reject' each is admitted or refused whole)
        if (this.turn.length === 0) queueMicrotask(() => this.sendTurn());
        this.turn.push(p);
      }
    });
  }

  private turn: Publication[] = [];

  /**
   * Whether `p` can take a leased place: one entry without a ttl, a lease with places and time
   * left, and a connection that writes at once (not one queueing commands while it reconnects).
   */
  private leased(p: Publication): boolean {
    if (this.leaseLeft === 0 || p.args.length !== ARGS_PER_ENTRY || p.args[4] !== '0') return false;
    if (Date.now() >= this.leaseUntil || !this.engine.ready) {
      this.leaseLeft = 0;
      return false;
    }
    return true;
  }

  /**
   * Adds `p`'s one entry with a plain XADD. One that fails (the topic was closed) or finds no
   * stream (it was deleted) goes through the publish function, which answers why.
   */
  private plain(p: Publication): void {
    this.leaseLeft--;
    const [value, key, hasKey, headers] = p.args as [Buffer, string, string, string];
    const args: (string | Buffer)[] = ['XADD', this.key, 'NOMKSTREAM', '0-*', V, value, T, String(Date.now())];
    if (hasKey === '1') args.push(K, key);
    if (headers !== '') args.push(H, headers);
    this.engine.send(args).then(
      (id) => {
        if (id === null) return this.unleased(p);
        const offset = offsetOf(id as Buffer);
        if (offset + 1 > this.tail) this.tail = offset + 1;
        this.wakeMembers();
        p.offsets.push(offset);
        p.resolve(p.offsets);
      },
      () => this.unleased(p),
    );
  }

  private unleased(p: Publication): void {
    this.leaseLeft = 0;
    this.send([p]);
  }

  private sendTurn(): void {
    const all = this.turn;
    this.turn = [];
    // a publish alone in its turn takes a leased place; a run of them goes in one call
    if (all.length === 1 && this.leased(all[0]!)) return this.plain(all[0]!);
    let batch: Publication[] = [];
    let size = 0;
    for (const p of all) {
      batch.push(p);
      size += p.args.length / ARGS_PER_ENTRY;
      if (size >= MAX_ENTRIES_PER_CALL) {
        this.send(batch);
        batch = [];
        size = 0;
      }
    }
    if (batch.length > 0) this.send(batch);
  }

  /** One attempt: admitted entries resolve their offsets, in order; the rest waits for room (block) or is refused. */
  private send(ps: Publication[]): void {
    const whole = this.overflow === 'reject' ? '1' : '0';
    // the call ends this publisher's lease: the places it grants are counted afresh
    this.leaseLeft = 0;
    const call = ++this.calls;
    const sent = Date.now();
    this.run('pub', [whole, this.publisher, ...(ps.length === 1 ? ps[0]!.args : ps.flatMap((p) => p.args))]).then(
      (reply) => {
        const [status, first, count, tail, slots] = reply as [Buffer, number, number, number, number];
        if (tail > this.tail) this.tail = tail;
        if (call === this.calls && slots > 0) {
          this.leaseLeft = slots;
          this.leaseUntil = sent + LEASE_USE_MS;
        }
        const s = status.toString();
        if (s === 'CLOSED') return ps.forEach((p) => this.settle(p, new ClosedError(`topic \`${this.name}\` is closed`)));
        if (s === 'FULL' && this.overflow !== 'block') return ps.forEach((p) => this.settle(p, new TopicFullError(this.name, this.snapshot.capacity)));
        if (count > 0) this.wakeMembers();
        let next = first;
        let left = count;
        let blocked = false;
        for (const p of ps) {
          const k = Math.min(left, p.args.length / ARGS_PER_ENTRY);
          for (let i = 0; i < k; i++) p.offsets.push(next++);
          left -= k;
          if (k > 0) p.args = k * ARGS_PER_ENTRY === p.args.length ? NONE : p.args.slice(k * ARGS_PER_ENTRY);
          if (p.args.length === 0) this.settle(p, undefined);
          else if (p.signal?.aborted) this.settle(p, p.signal.reason); // what was not admitted is withdrawn
          else {
            if (!this.waiting.includes(p)) {
              const at = this.waiting.findIndex((w) => w.seq > p.seq);
              this.waiting.splice(at < 0 ? this.waiting.length : at, 0, p);
            }
            blocked = true;
          }
        }
        if (blocked) this.wait(count > 0);
      },
      (e: unknown) => ps.forEach((p) => this.settle(p, e)),
    );
  }

  /** The highest tail a fetch has seen: the blocking read waits for entries past it. */
  lastSeen = 0;

  seen(tail: number): void {
    if (tail > this.lastSeen) this.lastSeen = tail;
  }

  /** Members waiting for entries look again now. */
  wakeMembers(): void {
    for (const m of this.members) m.wake();
  }

  /** How many members wait for entries (their fetch found none). */
  waiters(): number {
    let n = 0;
    for (const m of this.members) if (m.waiting) n++;
    return n;
  }

  private settle(p: Publication, error: unknown): void {
    const i = this.waiting.indexOf(p);
    if (i >= 0) this.waiting.splice(i, 1);
    if (error === undefined) {
      p.resolve(p.offsets);
      this.backoff = 1;
    } else p.reject(error);
    this.updateWaiting();
    const next = this.waiting[0];
    if (next !== undefined && i === 0 && this.retry === undefined) this.send([next]);
    if (error instanceof TopicFullError || error instanceof ClosedError) void this.refresh();
  }

  /** The first waiting publication tries again after a short, growing pause. */
  private wait(progress: boolean): void {
    this.backoff = progress ? 1 : Math.min(this.backoff * 2, this.engine.pollMs);
    this.updateWaiting();
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      const head = this.waiting[0];
      if (head !== undefined) this.send([head]);
    }, this.backoff);
  }

  private updateWaiting(): void {
    if (this.snapshot.waitingPublishers !== this.waiting.length) this.snapshot = { ...this.snapshot, waitingPublishers: this.waiting.length };
  }

  openMember<T>(options: MemberOptions): MemberPort<T> {
    const m = new RedisMember<T>(this, options);
    this.members.add(m as RedisMember<unknown>);
    return m;
  }

  async deleteGroup(name: string): Promise<boolean> {
    const r = await this.run('deleteGroup', [name]);
    void this.refresh();
    return r === 1;
  }

  /** The last snapshot; reading it refreshes it in the background (one request at a time). */
  stats(): TopicStats {
    void this.refresh();
    if (this.tail > this.snapshot.tail) this.snapshot = { ...this.snapshot, tail: this.tail, published: this.tail };
    return this.snapshot;
  }

  /** Fetches the figures, after each member has checked which of its held deliveries are still its own. */
  refresh(): Promise<void> {
    // the checks go first on the connection: the figures follow what they found
    this.refreshing ??= Promise.all([...[...this.members].map((m) => m.check()), this.run('stats', [])])
      .then((replies) => this.apply(JSON.parse(String(replies[replies.length - 1])) as ServerStats))
      .catch(() => undefined)
      .finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private apply(s: ServerStats): void {
    const groups = Array.isArray(s.groups) ? {} : s.groups; // cjson writes an empty table as []
    this.snapshot = {
      ...this.snapshot,
      capacity: s.capacity,
      size: s.size,
      head: s.head,
      tail: s.tail,
      published: s.published,
      rejected: s.rejected,
      dropped: s.dropped,
      expired: s.expired,
      agedOut: s.agedOut,
      deadLetterDropped: s.deadLetterDropped,
      subscribers: s.subscribers,
      closed: s.closed || this.snapshot.closed,
      groups,
    };
  }

  async close(): Promise<void> {
    this.leaseLeft = 0;
    await this.run('close', []);
    this.snapshot = { ...this.snapshot, closed: true };
    for (const m of this.members) m.wake();
    await this.refresh();
  }

  async destroy(): Promise<void> {
    this.leaseLeft = 0;
    clearInterval(this.janitor);
    clearTimeout(this.retry);
    for (const m of [...this.members]) await m.close();
    await this.run('destroy', []);
    for (const p of this.waiting.splice(0)) p.reject(new ClosedError(`topic \`${this.name}\` was deleted`));
    this.snapshot = { ...this.snapshot, closed: true };
  }

  /** The engine is closing: timers stop, publishers still waiting are refused, members hand back what they hold. */
  detach(): Promise<unknown> {
    clearInterval(this.janitor);
    clearTimeout(this.retry);
    for (const p of this.waiting.splice(0)) p.reject(new ClosedError('the bus is closed'));
    return Promise.all([...this.members].map((m) => m.close()));
  }
}
