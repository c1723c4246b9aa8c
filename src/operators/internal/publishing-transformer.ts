import type { Delivery, Topic } from '../../types.js';
import { syncOf } from '../../internal/faces/sync-of.js';
import { publishOne, type Outgoing } from './outgoing.js';
import type { CancellableTransformer } from './transform.js';

/** Runs `f` on the next macrotask. */
const nextTurn: (f: () => void) => void = typeof setImmediate === 'function' ? (f) => void setImmediate(f) : (f) => void setTimeout(f, 0);

/** Most chunks a stream twin has published to a durable topic and not yet reported; one more write waits. */
const MAX_UNSYNCED = 1024;

/** What a stream twin does with an input once its fate is known. */
export interface StreamFate<I> {
  /** Published (on a durable topic: synced); its offset is emitted right after. */
  published(input: I): void;
  /** Not published: the stream errors. */
  dropped(input: I): void;
}

/** `publishToStream`: nothing to settle. */
export const NO_FATE: StreamFate<unknown> = { published: () => undefined, dropped: () => undefined };

/** The stream twins that settle their source deliveries: ack once published, nack when not. */
export const SETTLE_FATE: StreamFate<Delivery<unknown>> = { published: (d) => void d.ack(), dropped: (d) => void d.nack() };

/**
 * The transformer of the publishing stream twins: publishes each chunk's message and emits its
 * offset, in order, once the message is accepted — in the ring and, on a durable topic, synced,
 * as `await publish()` resolves — telling `fate` first. A write waits while the topic has no
 * room (`overflow: 'block'`). On a durable topic publishing goes on while earlier chunks wait
 * for their sync (one sync covers many; at most {@link MAX_UNSYNCED} wait), and the stream
 * closes once every chunk is reported. A chunk that cannot be published (a closed or full
 * topic, a throwing `map`, a failed sync) is dropped and errors the stream; so is every chunk
 * after it that was not reported yet.
 */
export function publishingTransformer<I, V>(topic: Topic<V>, map: (input: I) => Outgoing<V>, fate: StreamFate<I>): CancellableTransformer<I, number> {
  const abort = new AbortController();
  const sync = syncOf(topic);
  // One sync per turn: a stream hands chunks over through promise callbacks, so a sync asked for
  // at each chunk would start (a store starts its batch on a microtask) before the next chunk is
  // published, one sync per chunk; asked for on the next turn, it covers every chunk of this one.
  let turnSync: Promise<void> | undefined;
  const syncSoon = (): Promise<void> =>
    (turnSync ??= new Promise<void>((resolve) => nextTurn(resolve)).then(() => {
      turnSync = undefined;
      return (sync as () => Promise<void>)();
    }));
  let chain: Promise<void> = Promise.resolve();
  let unsynced = 0;
  let failure: { error: unknown } | undefined;
  return {
    transform(input, controller) {
      if (failure !== undefined) {
        fate.dropped(input);
        throw failure.error;
      }
      let r: number | Promise<number>;
      try {
        r = publishOne(topic, map(input), abort.signal);
      } catch (e) {
        fate.dropped(input);
        if (unsynced === 0) throw e;
        // the chunks before it are published: report them before the stream errors
        return chain.then(() => {
          throw e;
        });
      }
      if (sync === undefined) {
        if (typeof r === 'number') {
          fate.published(input);
          controller.enqueue(r);
          return;
        }
        return r.then(
          (offset) => {
            fate.published(input);
            controller.enqueue(offset);
          },
          (e: unknown) => {
            fate.dropped(input);
            throw e;
          },
        );
      }
      // durable: reported once synced, in order (a waiting publish resolves once synced)
      const offset = r;
      const accepted = typeof offset === 'number' ? syncSoon().then(() => offset) : offset;
      const outcome = accepted.then(
        (o): number | { error: unknown } => o,
        (e: unknown) => ({ error: e }),
      );
      unsynced++;
      chain = chain.then(() => outcome).then((o) => {
        unsynced--;
        if (typeof o === 'number' && failure === undefined) {
          fate.published(input);
          try {
            controller.enqueue(o);
          } catch {
            // the readable side was cancelled: the message is published all the same
          }
          return;
        }
        if (typeof o !== 'number') failure ??= { error: o.error }; // else an earlier chunk failed: this one goes with it
        fate.dropped(input);
        try {
          controller.error((failure as { error: unknown }).error);
        } catch {
          // already errored or closed
        }
      });
      if (typeof offset !== 'number') return outcome.then(() => undefined); // waited for room
      if (unsynced >= MAX_UNSYNCED) return chain;
    },
    flush() {
      return chain.then(() => {
        if (failure !== undefined) throw failure.error;
      });
    },
    cancel(reason) {
      abort.abort(reason);
    },
  };
}
