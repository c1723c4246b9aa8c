import type { ConsumerInfo } from '@nats-io/jetstream';
import { ClosedError, TopicFullError } from '../errors.js';
import { type NatsTopicConfig, streamLimit } from './config.js';
import { apiCode, MAX_MSGS_EXCEEDED, SEALED, settledFloor } from './group.js';
import type { NatsHost } from './host.js';
import type { LocalCounts } from './stats.js';

/** The most messages one round of making room deletes. */
const ROOM_BATCH = 256;

function offsetOf(seq: number): number {
  return seq - 1;
}

/** Sleeps `ms`, or less when `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Publishing into a stream whose room is emulated: the stream has `max_msgs` with discard-new (the
 * capacity; under `grow`, `maxCapacity`). A publish the server refuses as full deletes the oldest
 * messages every consumer has settled, then retries, rejects (`reject`, `grow`) or waits and
 * retries (`block`). Publishes are pipelined until one finds the stream full; from then on they
 * queue behind it in call order. Under `drop-oldest` the stream discards old messages itself, so
 * no publish is refused for room.
 */
export class Room {
  sealed: boolean;
  /** Publishes that found the stream full, in order: later ones queue behind. */
  private queue: Promise<unknown> = Promise.resolve();
  private queued = 0;

  constructor(
    private readonly host: NatsHost,
    private readonly name: string,
    private readonly stream: string,
    private readonly subject: string,
    private readonly config: NatsTopicConfig,
    private readonly local: LocalCounts,
    sealed: boolean,
  ) {
    this.sealed = sealed;
  }

  closedError(): ClosedError {
    return new ClosedError(`topic \`${this.name}\` is closed`);
  }

  /** Publishes one payload; resolves to its offset. `msgId` makes it idempotent (dead letters). */
  publishOne(data: Uint8Array, msgId: string | undefined, signal?: AbortSignal): Promise<number> {
    const attempt =
      msgId === undefined
        ? (): Promise<number> => this.host.publish(this.subject, data).then(offsetOf)
        : (): Promise<number> => this.host.js.publish(this.subject, data, { msgID: msgId }).then((ack) => ack.seq - 1);
    if (this.queued > 0) return this.enqueue(attempt, signal);
    return attempt().catch((e: unknown) => {
      if (apiCode(e) === MAX_MSGS_EXCEEDED) return this.enqueue(attempt, signal);
      throw this.mapError(e);
    });
  }

  private enqueue(attempt: () => Promise<number>, signal: AbortSignal | undefined): Promise<number> {
    this.queued++;
    this.local.waiting++;
    const run = this.queue.then(() => this.untilRoom(attempt, signal));
    this.queue = run.catch(() => undefined).finally(() => {
      this.queued--;
      this.local.waiting--;
    });
    return run;
  }

  /** Retries `attempt`, making room between tries: `reject` (and `grow`, at `maxCapacity`) fails at once, `block` waits. */
  private async untilRoom(attempt: () => Promise<number>, signal: AbortSignal | undefined): Promise<number> {
    let wait = 5;
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      if (this.sealed) throw this.closedError();
      try {
        return await attempt();
      } catch (e) {
        if (apiCode(e) !== MAX_MSGS_EXCEEDED) throw this.mapError(e);
      }
      if (await this.makeRoom()) continue;
      if (this.config.overflow !== 'block') {
        this.local.rejected++;
        throw new TopicFullError(this.name, streamLimit(this.config));
      }
      await pause(wait, signal);
      wait = Math.min(100, wait * 2);
      await this.checkSealed();
    }
  }

  private mapError(e: unknown): unknown {
    if (apiCode(e) === SEALED) {
      this.sealed = true;
      return this.closedError();
    }
    return e;
  }

  private async checkSealed(): Promise<void> {
    const info = await this.host.jsm.streams.info(this.stream);
    if (info.config.sealed === true) this.sealed = true;
  }

  /**
   * Deletes the oldest messages every consumer has settled, as many as the publishes waiting here
   * need (at most {@link ROOM_BATCH} at a time). True if it removed any, or room appeared meanwhile.
   */
  private async makeRoom(): Promise<boolean> {
    const info = await this.host.jsm.streams.info(this.stream);
    const { messages, first_seq: first } = info.state;
    const limit = streamLimit(this.config);
    if (messages < limit) return true; // room appeared meanwhile (TTL, another process)
    const wanted = Math.min(ROOM_BATCH, messages + Math.max(1, this.queued) - limit);
    return (await this.deleteSettled(first, first + wanted)) > 0;
  }

  /** The stream sequence below which every consumer has settled everything (the last + 1 without consumers). */
  private async settledFloor(last: number): Promise<number> {
    const consumers: ConsumerInfo[] = [];
    for await (const c of this.host.jsm.consumers.list(this.stream)) consumers.push(c);
    return settledFloor(last, consumers);
  }

  /**
   * Deletes the messages from `first` up to (not including) `upTo` that every consumer has settled,
   * each on its own, pipelined: a stream purge up to a sequence would clear every consumer's
   * pending deliveries on nats-server 2.9 (measured on 2.9.10), losing what members hold. Resolves
   * to how many it removed.
   */
  async deleteSettled(first: number, upTo: number, floor?: number): Promise<number> {
    const end = Math.min(floor ?? (await this.settledFloor(upTo)), upTo);
    if (end <= first) return 0;
    const seqs = Array.from({ length: end - first }, (_, i) => first + i);
    const removed = await Promise.all(seqs.map((seq) => this.deleteMessage(seq)));
    const count = removed.filter(Boolean).length;
    this.local.deleted += count;
    return count;
  }

  /** Deletes one message (without overwriting its bytes); false if it was gone already. */
  private deleteMessage(seq: number): Promise<boolean> {
    return this.host.jsm.streams.deleteMessage(this.stream, seq, false).catch((e: unknown) => {
      if (apiCode(e) === undefined) throw e;
      return false;
    });
  }
}
