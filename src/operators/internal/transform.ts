/**
 * A `Transformer` with the `cancel(reason)` hook (WHATWG Streams, 2023: called when the
 * readable side is cancelled or the writable side aborted). TypeScript's lib.dom does not
 * declare it yet; Node 20.x (recent) and current browsers call it.
 */
export interface CancellableTransformer<I, O> extends Transformer<I, O> {
  cancel?: (reason: unknown) => void | PromiseLike<void>;
}

/** `new TransformStream(transformer, ...)` for a transformer with a `cancel` hook. */
export function transformStream<I, O>(transformer: CancellableTransformer<I, O>, writableStrategy?: QueuingStrategy<I>, readableStrategy?: QueuingStrategy<O>): TransformStream<I, O> {
  return new TransformStream<I, O>(transformer, writableStrategy, readableStrategy);
}
