import type { Delivery } from '../types.js';

/**
 * The web-stream twin of {@link values}: a readable of plain values that settles each
 * delivery when the reader comes back for the next one (the stream's analogue of "the
 * synchronous downstream returned": a `for await` body or a `pipeTo` write has taken it).
 * The last one is acked when the reader reads the end. A reader that cancels (a `break`
 * out of `for await`) leaves the value it was given unsettled; through `pipeThrough` the
 * cancellation reaches a ringbus source, which returns it to the group.
 *
 * It holds one delivery at a time: no queue between the writable and the readable side.
 *
 * @returns `TransformStream<Delivery<T>, T>` (a `{ writable, readable }` pair).
 *
 * @example
 * ```ts
 * import { createBus } from 'ringbus';
 * import { valuesStream } from 'ringbus/operators';
 *
 * const temps = createBus().topic<number>('temps', { groups: ['alarm'] });
 * await temps.publishBatch([88, 93]);
 * await temps.close();
 * for await (const t of temps.readable({ group: 'alarm' }).pipeThrough(valuesStream<number>())) {
 *   console.log(t); // acked when the loop asks for the next value
 * }
 * ```
 */
export function valuesStream<T>(): TransformStream<Delivery<T>, T> {
  let out!: ReadableStreamDefaultController<T>;
  let inCtl!: WritableStreamDefaultController;
  /** Handed to the reader, settled when the reader comes back. */
  let taken: Delivery<T> | undefined;
  /** A written delivery the reader has not asked for yet, with the write to resolve. */
  let offered: { d: Delivery<T>; resolve: () => void } | undefined;
  /** A read waiting for a write (or for the end). */
  let reading: (() => void) | undefined;
  let closing: (() => void) | undefined;
  let ended = false;

  const hand = (d: Delivery<T>): void => {
    taken = d;
    out.enqueue(d.value);
  };

  const readable = new ReadableStream<T>(
    {
      start(c) {
        out = c;
      },
      pull() {
        const previous = taken;
        taken = undefined;
        previous?.ack();
        if (offered !== undefined) {
          const o = offered;
          offered = undefined;
          hand(o.d);
          o.resolve();
          return;
        }
        if (closing !== undefined) {
          ended = true;
          out.close();
          closing();
          return;
        }
        return new Promise<void>((resolve) => (reading = resolve));
      },
      cancel(reason) {
        ended = true;
        taken = undefined;
        offered?.resolve();
        offered = undefined;
        inCtl.error(reason);
        closing?.();
      },
    },
    { highWaterMark: 0 },
  );

  const writable = new WritableStream<Delivery<T>>(
    {
      start(c) {
        inCtl = c;
      },
      write(d) {
        if (ended) return;
        if (reading !== undefined) {
          const r = reading;
          reading = undefined;
          hand(d);
          r();
          return;
        }
        return new Promise<void>((resolve) => (offered = { d, resolve }));
      },
      close() {
        if (ended) return;
        if (reading !== undefined) {
          const r = reading;
          reading = undefined;
          ended = true;
          out.close();
          r();
          return;
        }
        return new Promise<void>((resolve) => (closing = resolve));
      },
      abort(reason) {
        ended = true;
        out.error(reason);
      },
    },
    { highWaterMark: 1 },
  );

  return { readable, writable } as TransformStream<Delivery<T>, T>;
}
