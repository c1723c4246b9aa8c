import { AsyncIterableX } from 'ix/asynciterable';
import { Observable, type Subscriber } from 'rxjs';
import type { Delivery, Topic, WritableOptions } from '../types.js';
import type { ConsumerPort } from './port.js';
import * as v from './validate.js';

/**
 * The faces. Each is built only on {@link ConsumerPort} (`tryRecv`, `onReady`, `done`,
 * `close`), so any engine implementing the port gets all of them.
 */

/** Drains a port into a subscriber without recursion: a re-entrant wake sets `again`. */
function pump<T, R>(port: ConsumerPort<T>, subscriber: Subscriber<R>, emit: () => void): () => void {
  let draining = false;
  let again = false;
  return () => {
    if (draining) {
      again = true;
      return;
    }
    draining = true;
    try {
      do {
        again = false;
        emit();
      } while (again && !subscriber.closed);
    } catch (e) {
      port.close();
      subscriber.error(e);
      return;
    } finally {
      draining = false;
    }
    if (subscriber.closed) return;
    if (port.aborted) subscriber.error(port.abortReason);
    else if (port.done) subscriber.complete();
  };
}

/** `topic.messages()`: subscribe joins the group, unsubscribe leaves it; `prefetch` is the backpressure. */
export function messagesFace<T>(open: () => ConsumerPort<T>): Observable<Delivery<T>> {
  return new Observable<Delivery<T>>((subscriber) => {
    const port = open();
    // A redelivery of a message returned during this synchronous pass (a subscriber that nacks
    // at once) waits for a fresh macrotask: a consumer that always nacks must not hang the thread.
    let parked: Delivery<T> | undefined;
    let resume = false;
    const drain = pump(port, subscriber, () => {
      if (resume) return; // a parked redelivery goes first, on the deferred pass
      const returns = port.returns;
      let d: Delivery<T> | undefined = parked;
      parked = undefined;
      if (d !== undefined) subscriber.next(d);
      while (!subscriber.closed && port.more && (d = port.tryRecv()) !== undefined) {
        if (d.deliveryCount > 1 && port.returns !== returns) {
          parked = d;
          if (!resume) {
            resume = true;
            port.defer(() => {
              resume = false;
              drain();
            });
          }
          return;
        }
        subscriber.next(d);
      }
    });
    port.onReady = drain;
    drain();
    return () => {
      port.onReady = null;
      port.close(); // returns `parked` too: it is held by this port
    };
  });
}

/** `topic.values()`: each value settled once the synchronous downstream returns; returned if the subscription ends meanwhile. */
export function valuesFace<T>(open: () => ConsumerPort<T>): Observable<T> {
  return new Observable<T>((subscriber) => {
    const port = open();
    const emit =
      port.drainValues !== undefined
        ? () => port.drainValues?.(subscriber)
        : () => {
            let d: Delivery<T> | undefined;
            while (!subscriber.closed && (d = port.tryRecv()) !== undefined) {
              subscriber.next(d.value);
              if (subscriber.closed) d.nack();
              else d.ack();
            }
          };
    const drain = pump(port, subscriber, emit);
    port.onReady = drain;
    drain();
    return () => {
      port.onReady = null;
      port.close();
    };
  });
}

/**
 * `topic.readable()`: pulls `desiredSize` deliveries on demand; while the group has nothing, the
 * port's `onReady` enqueues as soon as something arrives (no promise per chunk). `cancel()`
 * closes the port, returning what the stream still holds.
 */
export function readableFace<T>(open: () => ConsumerPort<T>, highWaterMark: number): ReadableStream<Delivery<T>> {
  let port: ConsumerPort<T>;
  let filling = false;
  let ended = false;
  const fill = (controller: ReadableStreamDefaultController<Delivery<T>>): void => {
    if (filling || ended) return;
    filling = true;
    try {
      let d: Delivery<T> | undefined;
      while ((controller.desiredSize ?? 0) > 0 && (d = port.tryRecv()) !== undefined) controller.enqueue(d);
      if (port.aborted) {
        ended = true;
        port.onReady = null;
        controller.error(port.abortReason);
      } else if (port.done) {
        ended = true;
        port.onReady = null;
        port.close();
        controller.close();
      }
    } catch (e) {
      ended = true;
      port.onReady = null;
      port.close();
      controller.error(e);
    } finally {
      filling = false;
    }
  };
  return new ReadableStream<Delivery<T>>(
    {
      start(controller) {
        port = open();
        port.onReady = () => fill(controller);
      },
      pull(controller) {
        fill(controller);
      },
      cancel() {
        ended = true;
        port.onReady = null;
        port.close();
      },
    },
    { highWaterMark, size: () => 1 },
  );
}

/** `topic.consume()`: an ix AsyncIterableX; each iteration opens a member, `break` closes it. */
class ConsumeIterable<T> extends AsyncIterableX<Delivery<T>> {
  constructor(private readonly open: () => ConsumerPort<T> & AsyncIterable<Delivery<T>>) {
    super();
  }

  [Symbol.asyncIterator](): AsyncIterator<Delivery<T>> {
    return this.open()[Symbol.asyncIterator]();
  }
}

export function consumeFace<T>(open: () => ConsumerPort<T> & AsyncIterable<Delivery<T>>): AsyncIterableX<Delivery<T>> {
  return new ConsumeIterable(open);
}

const WRITABLE_KEYS = ['key', 'headers', 'highWaterMark'] as const;

/** `topic.writable()`: each chunk is published; a full topic under `block` holds `writer.ready`. */
export function writableFace<T>(topic: Topic<T>, options: WritableOptions | undefined): WritableStream<T> {
  const o = v.options<WritableOptions>('writable options', options, WRITABLE_KEYS);
  const highWaterMark = o.highWaterMark === undefined ? 1 : v.integer('highWaterMark', o.highWaterMark, 1, 2 ** 20);
  const headers = v.headers('headers', o.headers);
  if (o.key !== undefined && typeof o.key !== 'string') v.name('key', o.key);
  const publishOptions = o.key === undefined && headers === undefined ? undefined : { key: o.key, headers };
  return new WritableStream<T>(
    {
      write(chunk) {
        if (topic.tryPublish(chunk, publishOptions)) return;
        return topic.publish(chunk, publishOptions).then(() => undefined);
      },
    },
    { highWaterMark, size: () => 1 },
  );
}
