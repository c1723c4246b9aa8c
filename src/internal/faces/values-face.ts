import { Observable } from 'rxjs';
import type { Delivery } from '../../types.js';
import type { ConsumerPort, PortOpener } from './port.js';
import { Pump } from './pump.js';

/** `values()`: through the port's allocation-free `drainValues` when it has one, else `tryRecv` and settle. */
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

/** `topic.values()`: each value settled once the synchronous downstream returns; returned if the subscription ends meanwhile. */
export function valuesFace<T>(opener: PortOpener<ConsumerPort<T>>): Observable<T> {
  return new Observable<T>((subscriber) => new ValuesPump(opener.open(), subscriber).start());
}
