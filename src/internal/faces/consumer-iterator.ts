import type { Delivery } from '../../types.js';

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** What the iterator calls on its consumer (`ConsumerImpl`). */
export interface Iterated<T> {
  tryRecv(): Delivery<T> | undefined;
  recv(): Promise<Delivery<T> | undefined>;
  readonly aborted: boolean;
  readonly abortReason: unknown;
  readonly done: boolean;
  close(): void;
}

/** Async iterator over a consumer; `return()` (a `break`) closes it, returning what it holds. */
export class ConsumerIterator<T> implements AsyncIterator<Delivery<T>> {
  constructor(private readonly c: Iterated<T>) {}

  next(): Promise<IteratorResult<Delivery<T>>> {
    const c = this.c;
    let d: Delivery<T> | undefined;
    try {
      d = c.tryRecv();
    } catch (e) {
      c.close();
      return Promise.reject(e);
    }
    if (d !== undefined) return Promise.resolve({ done: false, value: d });
    if (c.aborted) return Promise.reject(c.abortReason);
    if (c.done) {
      c.close();
      return Promise.resolve(DONE);
    }
    return c.recv().then(
      (v) => {
        if (v === undefined) {
          c.close();
          return DONE;
        }
        return { done: false, value: v };
      },
      (e: unknown) => {
        c.close();
        throw e;
      },
    );
  }

  return(): Promise<IteratorResult<Delivery<T>>> {
    this.c.close();
    return Promise.resolve(DONE);
  }
}
