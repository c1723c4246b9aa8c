import { Observable } from 'rxjs';
import type { Delivery } from '../../types.js';
import type { ConsumerPort, PortOpener } from './port.js';
import { Pump } from './pump.js';

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

/** `topic.messages()`: subscribe joins the group, unsubscribe leaves it; `prefetch` is the backpressure. */
export function messagesFace<T>(opener: PortOpener<ConsumerPort<T>>): Observable<Delivery<T>> {
  return new Observable<Delivery<T>>((subscriber) => new MessagesPump(opener.open(), subscriber).start());
}
