import type { Subscriber } from 'rxjs';
import type { ConsumerPort, ReadyListener } from './port.js';

/**
 * The push faces' drain (`messages()`, `values()`): hands a port's deliveries to an RxJS
 * subscriber without recursion (a re-entrant `ready()` sets `again`), then completes or errors the
 * subscriber when the port is done or aborted. The port calls `ready()`, a method shared by every
 * instance, so that call site sees one shape however many subscriptions come and go.
 */
export abstract class Pump<T, R> implements ReadyListener {
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
