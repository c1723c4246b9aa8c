import { AsyncIterableX } from 'ix/asynciterable';
import type { Delivery } from '../../types.js';
import type { ConsumerPort, PortOpener } from './port.js';

/** An ix AsyncIterableX whose every iteration opens a member of its own. */
class ConsumeIterable<T> extends AsyncIterableX<Delivery<T>> {
  constructor(private readonly opener: PortOpener<ConsumerPort<T> & AsyncIterable<Delivery<T>>>) {
    super();
  }

  [Symbol.asyncIterator](): AsyncIterator<Delivery<T>> {
    return this.opener.open()[Symbol.asyncIterator]();
  }
}

/** `topic.consume()`: an ix AsyncIterableX; each iteration opens a member, `break` closes it. */
export function consumeFace<T>(opener: PortOpener<ConsumerPort<T> & AsyncIterable<Delivery<T>>>): AsyncIterableX<Delivery<T>> {
  return new ConsumeIterable(opener);
}
