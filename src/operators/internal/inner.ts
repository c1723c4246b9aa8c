import { type Observable, type Observer, type Subscriber, Subscription } from 'rxjs';

/**
 * The subscriber an operator hands to its source. It is a `Subscription` that is also an
 * `Observer`, so RxJS uses it as the subscriber itself (no wrapper): unsubscribing it stops a
 * source that is still emitting synchronously inside `subscribe()` — a ringbus `messages()`
 * face checks `closed` between deliveries and stops claiming more.
 */
class Inner<T> extends Subscription implements Observer<T> {
  constructor(private readonly observer: Observer<T>) {
    super();
  }

  next(value: T): void {
    if (!this.closed) this.observer.next(value);
  }

  error(err: unknown): void {
    if (this.closed) return;
    this.unsubscribe();
    this.observer.error(err);
  }

  complete(): void {
    if (this.closed) return;
    this.unsubscribe();
    this.observer.complete();
  }
}

/**
 * Subscribes `observer` to `source` on behalf of the operator's `outer` subscriber. The inner
 * subscription is a child of `outer` before the source starts, so the downstream ending — even
 * synchronously, while the source is still inside `subscribe()` — unsubscribes the source
 * first (a ringbus source returns its unsettled deliveries), before the operator's own
 * teardown runs.
 */
export function subscribeInner<T>(outer: Subscriber<unknown>, source: Observable<T>, observer: Observer<T>): Subscription {
  const inner = new Inner(observer);
  outer.add(inner);
  source.subscribe(inner);
  return inner;
}
