import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { DeliveryRecord, MemberListener, MemberOptions, MemberPort, Settlement } from '../engine.js';
import { AckTimer } from './ack-timer.js';
import { type Entry, expires, type Fetched, type Item, offsetOf, RedisRecord, toItem } from './item.js';
import type { BackendLink } from './link.js';
import { ItemQueue } from './queue.js';
import { Settlements } from './settlements.js';

const CONSUMER_PREFIX = `${hostname()}.${process.pid}`;

/**
 * A member of a group on Redis: its consumer in the stream's consumer group. It fetches by demand
 * (redeliveries due first, then `XREADGROUP`), into a local buffer that `poll` reads; settlements
 * answer from local state and go to the server batched per turn, checked there against the
 * entry's owner and delivery count.
 */
export class RedisMember<T> implements MemberPort<T> {
  readonly group: string;
  consumer = `${CONSUMER_PREFIX}.${randomUUID().slice(0, 8)}`;
  onReady: MemberListener | null = null;
  error: unknown = undefined;
  private readonly holding = new Map<string, RedisRecord<T>>();
  private readonly buffer = new ItemQueue();
  private wanted = 0;
  private asked = 0;
  private joined = false;
  private fetching = false;
  private epoch = 0;
  private floor = 0;
  private remoteDone = false;
  private left = false;
  private closing: Promise<void> | undefined = undefined;
  private retry: ReturnType<typeof setTimeout> | undefined = undefined;
  private readonly beat: ReturnType<typeof setInterval>;
  private readonly settlements: Settlements;
  private readonly timer: AckTimer;
  private readonly joining: Promise<boolean>;

  constructor(
    private readonly backend: BackendLink,
    private readonly options: MemberOptions,
  ) {
    this.group = options.group ?? `sub.${randomUUID()}`;
    this.settlements = new Settlements(backend, this);
    this.timer = new AckTimer(backend.ackTimeoutMs, () => this.expire());
    const from = options.from;
    const start = from === undefined ? (options.group === undefined ? 'latest' : 'earliest') : typeof from === 'object' ? String(from.offset) : from;
    const sent = Date.now();
    this.joining = backend.run('join', [this.group, this.consumer, start, options.group === undefined ? '0' : '1', String(backend.engine.leaseMs)]).then(
      () => {
        this.renewed = sent;
        this.joined = true;
        void backend.refresh();
        this.pump();
        return true;
      },
      (e: unknown) => {
        this.finish(e);
        return false;
      },
    );
    this.beat = setInterval(() => void this.check(), backend.engine.leaseMs / 3);
    this.beat.unref?.();
  }

  get held(): number {
    return this.holding.size;
  }

  get desiredSize(): number {
    return Math.max(0, Math.min(this.wanted, this.options.prefetch - this.held - this.buffer.length - this.asked));
  }

  set desiredSize(n: number) {
    this.wanted = n;
    this.pump();
  }

  get done(): boolean {
    return this.error !== undefined || ((this.closing !== undefined || this.left || this.remoteDone) && this.buffer.length === 0);
  }

  /** True while the member has demand and its last fetch found nothing. */
  get waiting(): boolean {
    return this.retry !== undefined;
  }

  /** Something may be new on the stream (a publish through this engine): fetch now rather than at the next poll. */
  wake(): void {
    if (this.retry === undefined) return;
    clearTimeout(this.retry);
    this.retry = undefined;
    this.pump();
  }

  private pumping = false;

  /**
   * Fetches if there is room and demand, once the current run of promise callbacks is over: a
   * loop that takes what is buffered without yielding sends nothing until it waits, so the fetch
   * is sized then, for the whole window.
   */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    process.nextTick(() => {
      this.pumping = false;
      this.fetch();
    });
  }

  private fetch(): void {
    if (!this.joined || this.fetching || this.retry !== undefined || this.closing !== undefined || this.left || this.remoteDone || this.error !== undefined) return;
    // A face that wants any gets what the window allows: one round trip fills the buffer. While
    // the buffer still serves it, refill only once half the window is free (no fetch of one).
    const room = this.options.prefetch - this.held - this.buffer.length - this.asked;
    const want = this.wanted > 0 && (this.buffer.length === 0 || room * 2 >= this.options.prefetch) ? room : 0;
    if (want <= 0) return;
    this.fetching = true;
    this.asked = want;
    const epoch = this.epoch;
    const sent = Date.now();
    if (sent < this.plainUntil) {
      // only acks and touches are queued (anything else ends the plain reads), and neither
      // changes what the read finds: the read goes first, its answer waits behind no ack
      this.readNew(epoch, this.gen, want);
      void this.flush();
      return;
    }
    void this.flush(); // settlements made before this fetch count first
    this.backend.run('fetch', [this.group, this.consumer, String(want), String(this.backend.engine.leaseMs), '1']).then(
      (reply) => {
        this.renewed = sent;
        if (reply === -1) return this.fetched(epoch, '', 1, [], []);
        const [drained, items, tail, news, plain, gen] = reply as [number, Fetched[], number, Entry[], number, Buffer];
        this.gen = gen.toString();
        this.backend.seen(tail);
        // nothing was due: until the next poll, fetches read new entries plainly
        if (plain === 1 && items.length === 0 && news.length > 0) this.plainUntil = sent + this.backend.engine.pollMs;
        this.fetched(epoch, this.gen, drained, items, news);
      },
      (e: unknown) => this.failed(e),
    );
  }

  /**
   * Until then a fetch is one plain `XREADGROUP` (the library's fetch, which hands out
   * redeliveries due first and keeps the lease, runs at least once a poll). A settlement that
   * hands an entry back, a commit, a seek and a fetch that finds nothing end it.
   */
  private plainUntil = 0;

  private readNew(epoch: number, gen: string, count: number): void {
    this.backend.read(this.group, this.consumer, count).then(
      (read) => {
        if (read.length === 0) this.plainUntil = 0;
        // what the read got counts as delivered, sent with the next settlements; one with an
        // expiry is counted by the 'vet' that hands it out, if it is still live
        if (!read.some(([, fields]) => expires(fields))) {
          this.settlements.delivered += read.length;
          return this.fetched(epoch, gen, 0, [], read);
        }
        const expiring = read.filter(([, fields]) => expires(fields));
        this.settlements.delivered += read.length - expiring.length;
        // the topic has entries with an expiry: the server's fetch checks them from now on, and
        // these go out only if the server finds them live
        this.plainUntil = 0;
        this.vet(epoch, gen, read, expiring);
      },
      (e: unknown) => (e instanceof Error && e.message.startsWith('NOGROUP') ? this.fetched(epoch, gen, 1, [], []) : this.failed(e)),
    );
  }

  /** Hands out the plainly read entries, less those with an expiry the server removed as expired. */
  private vet(epoch: number, gen: string, read: Entry[], expiring: Entry[]): void {
    this.backend.run('vet', [this.group, this.consumer, ...expiring.map(([id]) => id.toString())]).then(
      (reply) => {
        if (reply === -1) return this.fetched(epoch, gen, 1, [], []);
        const live = new Set((reply as Buffer[]).map(String));
        this.fetched(epoch, gen, 0, [], read.filter(([id, fields]) => !expires(fields) || live.has(id.toString())));
      },
      (e: unknown) => this.failed(e),
    );
  }

  /** When the last call that renewed the lease was sent (it answered). */
  renewed = 0;
  /** The group's gen as the last library fetch found it ('' before the first). */
  private gen = '';

  private failed(e: unknown): void {
    this.fetching = false;
    this.asked = 0;
    this.finish(e);
  }

  /** A fetch answered: redeliveries (`items`), then new entries. */
  private fetched(epoch: number, gen: string, drained: number, items: Fetched[], news: Entry[]): void {
    this.fetching = false;
    this.asked = 0;
    if (this.closing !== undefined) return;
    let got = 0;
    if (epoch === this.epoch) {
      const at = Date.now();
      for (const f of items) {
        const item = toItem(f[0], f[1], f[2], at, gen);
        if (item.offset < this.floor) continue;
        this.buffer.push(item);
        got++;
      }
      for (const [id, fields] of news) {
        const item = toItem(offsetOf(id), 1, fields, at, gen);
        if (item.offset < this.floor) continue;
        this.buffer.push(item);
        got++;
      }
    }
    this.wanted = Math.max(0, this.wanted - got);
    if (this.left) this.returnBuffered();
    if (drained === 1) this.remoteDone = true;
    if (got > 0 || drained === 1) this.onReady?.ready();
    if (got === 0 && !this.remoteDone) {
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.pump();
      }, this.backend.engine.pollMs);
      this.backend.engine.watch(this.backend);
    } else this.pump();
  }

  private finish(error: unknown): void {
    this.fetching = false;
    this.remoteDone = true;
    if (error !== undefined) this.error = error;
    this.onReady?.ready();
  }

  poll(): DeliveryRecord<T> | undefined {
    if (this.left) return undefined;
    const item = this.buffer.shift();
    if (item === undefined) return undefined;
    const auto = this.options.ack === 'auto';
    const record = new RedisRecord(this, item, auto);
    if (auto) this.queue('a', item, '');
    else {
      this.holding.set(item.id, record);
      this.arm(record);
    }
    return record;
  }

  /** Arms the record's local ack timeout (see {@link AckTimer}), touching it if it sat long in the buffer. */
  private arm(record: RedisRecord<T>, fresh = false): void {
    if (this.timer.arm(record, fresh)) this.queue('p', record.item, '');
  }

  private expire(): void {
    const now = Date.now();
    for (const r of [...this.holding.values()]) if (r.deadline <= now) this.drop(r.item.id);
  }

  /** @internal */
  settle(record: RedisRecord<T>, how: Settlement): void {
    if (this.closing !== undefined || record.settled) return;
    if (how.kind === 'inProgress') {
      this.arm(record, true);
      this.queue('p', record.item, '');
      return;
    }
    this.drop(record.item.id);
    if (how.kind === 'ack') this.queue('a', record.item, '');
    else if (how.kind === 'nack') {
      this.queue('n', record.item, String(Math.max(0, how.delayMs)));
      // a redelivery goes out before anything newer: what was read ahead goes back with it
      if (how.delayMs <= 0) this.returnBuffered();
    }
    else this.queue('t', record.item, how.reason === undefined ? '' : `:${how.reason}`);
  }

  private queue(kind: string, item: Item, arg: string): void {
    this.settlements.queue(kind, item, arg);
    if (kind !== 'a' && kind !== 'p') this.plainUntil = 0;
  }

  private flush(): Promise<unknown> {
    return this.settlements.flush();
  }

  private drop(id: string): void {
    const record = this.holding.get(id);
    if (record === undefined) return;
    record.gone = true;
    this.holding.delete(id);
    if (this.left && this.holding.size === 0) void this.part();
    else this.pump();
  }

  /** Renews the lease and learns which held deliveries are no longer this member's (evicted, expired, committed or seeked elsewhere). */
  check(): Promise<void> {
    this.settlements.sendCounts();
    if (!this.joined || this.closing !== undefined || this.remoteDone) return Promise.resolve();
    const held: string[] = [];
    for (const r of this.holding.values()) held.push(r.item.id, String(r.item.deliveryCount));
    const sent = Date.now();
    return this.backend.run('beat', [this.group, this.consumer, String(this.backend.engine.leaseMs), ...held]).then(
      (gone) => {
        this.renewed = sent;
        if (Array.isArray(gone)) for (const id of gone) this.drop(String(id));
        else if (gone === -1) this.finish(undefined);
      },
      () => undefined,
    );
  }

  commit(offset: number): Promise<boolean> {
    this.plainUntil = 0;
    for (const r of [...this.holding.values()]) if (r.offset < offset) this.drop(r.item.id);
    this.buffer.filter((item) => item.offset >= offset);
    this.floor = Math.max(this.floor, offset);
    void this.flush();
    return this.backend.run('commit', [this.group, this.consumer, String(offset)]).then((r) => r === 1);
  }

  seek(offset: number): Promise<boolean> {
    this.plainUntil = 0;
    for (const r of [...this.holding.values()]) this.drop(r.item.id);
    this.buffer.drain();
    this.epoch++;
    this.floor = 0;
    void this.flush();
    return this.backend.run('seek', [this.group, this.consumer, String(offset)]).then((r) => {
      this.pump();
      return r === 1;
    });
  }

  leave(): void {
    if (this.left || this.closing !== undefined) return;
    this.left = true;
    this.returnBuffered();
    if (this.holding.size === 0) {
      void this.part();
      return;
    }
    void this.flush();
    void this.joining.then((joined) => {
      if (!joined || this.holding.size === 0 || this.parting !== undefined) return;
      void this.backend.run('leave', [this.group, this.consumer]).then(() => this.backend.refresh());
      this.consumer = `~left.${this.consumer}`; // settlements after the leave come from there
    });
  }

  /** Deliveries that arrived for a face that is gone go back to the group, not counted as delivered. */
  private returnBuffered(): void {
    for (const item of this.buffer.drain()) this.queue('r', item, '1');
  }

  private parting: Promise<void> | undefined = undefined;

  private part(): Promise<void> {
    this.parting ??= (async () => {
      clearInterval(this.beat);
      this.timer.stop();
      clearTimeout(this.retry);
      this.backend.members.delete(this as RedisMember<unknown>);
      if (!(await this.joining)) return;
      await this.flush();
      await this.backend.run('part', [this.group, this.consumer]).catch(() => undefined);
      void this.backend.refresh();
    })();
    return this.parting;
  }

  close(): Promise<void> {
    if (this.closing === undefined) {
      this.returnBuffered();
      for (const r of this.holding.values()) {
        r.gone = true;
      }
      this.holding.clear();
      this.closing = this.part();
    }
    return this.closing;
  }
}
