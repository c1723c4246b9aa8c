/**
 * `ringbus/operators`: processing, filtering, expiry, batching, publishing, forwarding and dead-lettering
 * as RxJS operators on `Observable<Delivery<T>>`, each with a web-stream twin, so
 * `topic.readable().pipeThrough(handleStream(fn))` reads like `topic.messages().pipe(handle(fn))`.
 *
 * @example
 * ```ts
 * import { createBus } from 'ringbus';
 * import { handle } from 'ringbus/operators';
 *
 * const jobs = createBus().topic<number>('jobs', { groups: ['workers'], maxDeliveries: 3, deadLetter: 'jobs.dlq' });
 * jobs.messages({ group: 'workers', prefetch: 8 })
 *   .pipe(handle(async (n) => n * 2, { concurrency: 4, retry: { delayMs: 100 } }))
 *   .subscribe((o) => console.log(o.ok ? o.result : o.error));
 * ```
 *
 * @module
 */

export { handle } from './handle.js';
export { handleStream } from './handle-stream.js';
export { filterMessages } from './filter-messages.js';
export { filterMessagesStream } from './filter-messages-stream.js';
export { expire, type ExpireOperator } from './expire.js';
export { expireStream, type ExpireStream } from './expire-stream.js';
export { bufferMessages } from './buffer-messages.js';
export { bufferMessagesStream } from './buffer-messages-stream.js';
export { values } from './values.js';
export { valuesStream } from './values-stream.js';
export { publishTo } from './publish-to.js';
export { publishToStream } from './publish-to-stream.js';
export { deadLetterTo } from './dead-letter-to.js';
export { deadLetterToStream } from './dead-letter-to-stream.js';
export { forwardTo } from './forward-to.js';
export { forwardToStream } from './forward-to-stream.js';
export { PublishOverflowError } from './errors.js';
export type {
  BufferMessagesOptions,
  DeadLetterToOptions,
  DeliveryBatch,
  ExpireOptions,
  ForwardToOptions,
  HandleFailure,
  HandleOptions,
  HandleOutcome,
  HandleSuccess,
  Handler,
  PublishToOptions,
  RetryPolicy,
} from './types.js';
