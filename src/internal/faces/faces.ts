import { AsyncIterableX } from 'ix/asynciterable';
import { Observable, type Subscriber } from 'rxjs';
import type { Delivery, Topic, WritableOptions } from '../../types.js';
import type { ConsumerPort, PortOpener, ReadyListener } from './port.js';
import { syncOf } from './sync-of.js';
import * as v from '../validate.js';

/**
 * The faces. Each is built only on {@link ConsumerPort} (`tryRecv`, `onReady`, `done`,
 * `close`), so any engine implementing the port gets all of them.
 */

/**
 * Drains a port into a subscriber without recursion: a re-entrant `ready()` sets `again`. The
 * port calls `ready()`, a method shared by every instance, so the call stays monomorphic however
 * many subscriptions come and go.
 */
abstract class Pump<T, R> implements ReadyListener {
  protected draining = false;
  protected again = false;

  constructor(
    protected readonly port: ConsumerPort<T>,
    protected readonly subscriber: Subscriber<R>,
  ) {}

  /** Hands out what the port has now. */
  protected abstract emit(): void;

  ready(): void {
    if (this.draining) {
      this.again = true;
      return;
    }
    const { port, subscriber } = this;
    this.draining = true;
    try {
      do {
        this.again = false;
        this.emit();
      } while (this.again && !subscriber.closed);
    } catch (e) {
      port.close();
      subscriber.error(e);
      return;
    } finally {
      this.draining = false;
    }
    if (subscriber.closed) return;
    if (port.aborted) subscriber.error(port.abortReason);
    else if (port.done) subscriber.complete();
  }

  /** Subscribes: joins (the port is open), drains what is there, and leaves on teardown. */
  start(): () => void {
    this.port.onReady = this;
    this.ready();
    return () => {
      this.port.onReady = null;
      this.port.close(); // returns what this port still holds
    };
  }
}

/**
 * `messages()`: a redelivery of a message returned during the current synchronous pass (a
 * subscriber that nacks at once) waits for a fresh macrotask: a consumer that always nacks must
 * not hang the thread. It still goes out before anything newer.
 */
class MessagesPump<T> extends Pump<T, Delivery<T>> {
  private parked: Delivery<T> | undefined = undefined;
  private resume = false;
  private readonly resumed = (): void => {
    this.resume = false;
    if (!this.subscriber.closed) this.port.attachDeliveries?.(this);
    this.ready();
  };

  override start(): () => void {
    this.port.attachDeliveries?.(this);
    super.start();
    return () => {
      this.port.onReady = null;
      // what the subscriber was handed stays settleable (until its ack timeout); a parked redelivery it never saw returns
      const unseen = this.parked;
      this.parked = undefined;
      this.port.unsubscribe(unseen);
    };
  }

  /**
   * A delivery the port hands over at publish (see `ConsumerPort.attachDeliveries`). A message
   * returned meanwhile (a subscriber that nacks at once) parks the face until a later turn, as in
   * a pass of its own.
   */
  next(d: Delivery<T>): void {
    const port = this.port;
    const returns = port.returns;
    this.subscriber.next(d);
    this.pushReturns = port.returns !== returns ? returns : -1;
  }

  /** `returns` before a hand-off during which something was returned: the pass that follows counts from it. */
  private pushReturns = -1;

  get closed(): boolean {
    return this.subscriber.closed;
  }

  protected emit(): void {
    if (this.resume) return; // a parked redelivery goes first, on the deferred pass
    const { port, subscriber } = this;
    const returns = this.pushReturns >= 0 ? this.pushReturns : port.returns;
    this.pushReturns = -1;
    let d: Delivery<T> | undefined = this.parked;
    this.parked = undefined;
    if (d !== undefined) subscriber.next(d);
    while (!subscriber.closed && port.more && (d = port.tryRecv()) !== undefined) {
      if (d.deliveryCount > 1 && port.returns !== returns) {
        this.parked = d;
        this.resume = true;
        port.attachDeliveries?.(null); // nothing newer may be handed over before it
        port.defer(this.resumed);
        return;
      }
      subscriber.next(d);
    }
  }
}

/** `values()`: through the port's allocation-free `drainValues` when it has one. */
class ValuesPump<T> extends Pump<T, T> {
  override ready(): void {
    const port = this.port;
    if (port.drainValues === undefined || this.draining) {
      super.ready();
      return;
    }
    // the hot path of a caught-up subscriber: one drain, nothing else to check when it went idle
    const subscriber = this.subscriber;
    let idle: boolean;
    this.draining = true;
    try {
      idle = port.drainValues(subscriber);
    } catch (e) {
      this.draining = false;
      port.close();
      subscriber.error(e);
      return;
    }
    this.draining = false;
    if (!idle || this.again) super.ready(); // more to do: the general loop and its end checks
  }

  protected emit(): void {
    const { port, subscriber } = this;
    if (port.drainValues !== undefined) {
      port.drainValues(subscriber);
      return;
    }
    let d: Delivery<T> | undefined;
    while (!subscriber.closed && (d = port.tryRecv()) !== undefined) {
      subscriber.next(d.value);
      if (subscriber.closed) d.nack();
      else d.ack();
    }
  }
}

/** `topic.messages()`: subscribe joins the group, unsubscribe leaves it; `prefetch` is the backpressure. */
export function messagesFace<T>(opener: PortOpener<ConsumerPort<T>>): Observable<Delivery<T>> {
  return new Observable<Delivery<T>>((subscriber) => new MessagesPump(opener.open(), subscriber).start());
}

/** `topic.values()`: each value settled once the synchronous downstream returns; returned if the subscription ends meanwhile. */
export function valuesFace<T>(opener: PortOpener<ConsumerPort<T>>): Observable<T> {
  return new Observable<T>((subscriber) => new ValuesPump(opener.open(), subscriber).start());
}

/**
 * Enqueues what the port has, as it arrives, within the prefetch window; ends the stream with
 * the port. The window, not the stream's queuing strategy, bounds what is queued: the stream's
 * own high-water mark is 0, so it calls `pull` only when a reader waits on an empty queue (once
 * per refill, not once per chunk read).
 */
class ReadableFill<T> implements ReadyListener {
  private filling = false;
  private again = false;
  ended = false;
  /** A read is pending: `pull` was called and nothing has been enqueued since (see ReadyListener). */
  waiting = false;

  constructor(
    readonly port: ConsumerPort<T>,
    private readonly controller: ReadableStreamDefaultController<Delivery<T>>,
  ) {
    this.ended = true; // born mutable: `end` flips it (see TopicLog's constructor)
    this.ended = false;
  }

  /** Starving only once the reader has taken everything queued (the queue's size is `-desiredSize`). */
  get hungry(): boolean {
    return (this.controller.desiredSize ?? 0) >= 0;
  }

  ready(): void {
    if (this.ended) return;
    if (this.filling) {
      this.again = true; // a wake from inside the fill (an admitted publisher): one more pass
      return;
    }
    const { port, controller } = this;
    this.filling = true;
    try {
      do {
        this.again = false;
        let d = port.tryRecv();
        if (d !== undefined) this.waiting = false; // the first enqueued answers the pending read
        for (; d !== undefined; d = port.tryRecv()) controller.enqueue(d);
      } while (this.again && !this.ended);
      if (this.ended) return;
      if (port.aborted) {
        this.end();
        controller.error(port.abortReason);
      } else if (port.done) {
        this.end();
        port.close();
        controller.close();
      }
    } catch (e) {
      this.end();
      port.close();
      controller.error(e);
    } finally {
      this.filling = false;
    }
  }

  end(): void {
    this.ended = true;
    this.port.onReady = null;
  }
}

/**
 * `topic.readable()`: the port's deliveries, up to `prefetch` ahead of the reader, enqueued as
 * they arrive (the port's `onReady`) and when a reader waits on an empty queue (`pull`), never a
 * promise per chunk. `cancel()` closes the port, returning what the stream still holds.
 */
export function readableFace<T>(opener: PortOpener<ConsumerPort<T>>): ReadableStream<Delivery<T>> {
  let fill: ReadableFill<T>;
  return new ReadableStream<Delivery<T>>(
    {
      start(controller) {
        fill = new ReadableFill(opener.open(), controller);
        fill.port.onReady = fill;
        fill.ready(); // prefetch what the group has now
      },
      pull() {
        // a reader waits on an empty queue; finding nothing is what lets waiting publishers in
        fill.waiting = true;
        fill.ready();
      },
      cancel() {
        fill.end();
        fill.port.close();
      },
    },
    { highWaterMark: 0, size: () => 1 },
  );
}

/** `topic.consume()`: an ix AsyncIterableX; each iteration opens a member, `break` closes it. */
class ConsumeIterable<T> extends AsyncIterableX<Delivery<T>> {
  constructor(private readonly opener: PortOpener<ConsumerPort<T> & AsyncIterable<Delivery<T>>>) {
    super();
  }

  [Symbol.asyncIterator](): AsyncIterator<Delivery<T>> {
    return this.opener.open()[Symbol.asyncIterator]();
  }
}

export function consumeFace<T>(opener: PortOpener<ConsumerPort<T> & AsyncIterable<Delivery<T>>>): AsyncIterableX<Delivery<T>> {
  return new ConsumeIterable(opener);
}

const WRITABLE_KEYS = ['key', 'headers', 'highWaterMark'] as const;

/**
 * `topic.writable()`: each chunk is published; a full topic under `block` holds `writer.ready`.
 * On a durable topic a write resolves, as `publish()` does, once the chunk is as durable as the
 * storage promises: the stream's own queue holds the chunks behind it meanwhile.
 */
export function writableFace<T>(topic: Topic<T>, options: WritableOptions | undefined): WritableStream<T> {
  const o = v.options<WritableOptions>('writable options', options, WRITABLE_KEYS);
  const highWaterMark = o.highWaterMark === undefined ? 1 : v.integer('highWaterMark', o.highWaterMark, 1, 2 ** 20);
  const headers = v.headers('headers', o.headers);
  if (o.key !== undefined && typeof o.key !== 'string') v.name('key', o.key);
  const publishOptions = o.key === undefined && headers === undefined ? undefined : { key: o.key, headers };
  const sync = syncOf(topic);
  return new WritableStream<T>(
    {
      write(chunk) {
        if (topic.tryPublish(chunk, publishOptions)) return sync?.();
        return topic.publish(chunk, publishOptions).then(() => undefined);
      },
    },
    { highWaterMark, size: () => 1 },
  );
}
