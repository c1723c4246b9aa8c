import { TopicFullError } from '../errors.js';

/**
 * `publishTo` / `deadLetterTo` held more than `maxBuffered` values while the topic had no
 * room (`overflow: 'block'`). A {@link TopicFullError} (code `ERR_TOPIC_FULL`), so code
 * that handles a full topic handles this too.
 *
 * @example
 * ```ts
 * import { PublishOverflowError, publishTo } from 'ringbus/operators';
 * source$.pipe(publishTo(topic, { maxBuffered: 100 })).subscribe({
 *   error: (e) => { if (e instanceof PublishOverflowError) console.warn(e.message); },
 * });
 * ```
 */
export class PublishOverflowError extends TopicFullError {
  /** The bound that was passed. */
  readonly maxBuffered: number;

  constructor(topic: string, capacity: number, maxBuffered: number) {
    super(topic, capacity);
    this.maxBuffered = maxBuffered;
    this.message =
      `topic \`${topic}\` is full (capacity ${capacity}) and more than ${maxBuffered} values are waiting to be published; ` +
      'raise `maxBuffered`, or publish from a source that can wait (a web stream, `topic.writable()`)';
  }
}
