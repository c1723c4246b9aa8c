import type { Delivery } from '../../types.js';
import type { ConsumerPort, PortOpener, ReadyListener } from './port.js';

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
    // Rule (docs/internals.md): a field a later method flips is written twice at birth, so V8 never tracks it as a constant.
    this.ended = true;
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
