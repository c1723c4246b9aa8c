import type { Bus, Consumer, Topic } from '../../src/index.js';
import type { MakeBus } from './in-process/index.js';

/**
 * The memory engine dressed as a remote one, to prove the neutral part never leans on same-turn
 * visibility: every publish and every wait for a delivery crosses a timer turn of `lagMs`, and
 * `tryRecv` finds nothing (a remote member's local buffer may be empty at any moment).
 */
export function lagging(makeBus: MakeBus, lagMs = 1): MakeBus {
  return (options) => wrapBus(makeBus(options), lagMs);
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function wrapBus(bus: Bus, lagMs: number): Bus {
  const topics = new WeakMap<object, unknown>();
  const wrapTopic = <T>(t: Topic<T>): Topic<T> => {
    let w = topics.get(t) as Topic<T> | undefined;
    if (w === undefined) {
      w = through(t, {
        publish: async (...args: Parameters<Topic<T>['publish']>) => (await delay(lagMs), t.publish(...args)),
        publishBatch: async (...args: Parameters<Topic<T>['publishBatch']>) => (await delay(lagMs), t.publishBatch(...args)),
        consumer: (...args: Parameters<Topic<T>['consumer']>) => wrapConsumer(t.consumer(...args), lagMs),
      });
      topics.set(t, w);
    }
    return w;
  };
  return through(bus, { topic: (...args: Parameters<Bus['topic']>) => wrapTopic(bus.topic(...args)) } as Partial<Bus>);
}

function wrapConsumer<T>(c: Consumer<T>, lagMs: number): Consumer<T> {
  const later =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      await delay(lagMs);
      const r = await f(...a);
      await delay(lagMs);
      return r;
    };
  return through(c, {
    tryRecv: () => undefined,
    recv: later(c.recv.bind(c)),
    recvTimeout: later(c.recvTimeout.bind(c)),
    recvBatch: later(c.recvBatch.bind(c)),
  });
}

/** `target` with some methods replaced; the rest read through (methods bound to `target`). */
function through<T extends object>(target: T, overrides: Partial<Record<keyof T, unknown>>): T {
  return new Proxy(target, {
    get(t, key) {
      if (Object.hasOwn(overrides, key)) return overrides[key as keyof T];
      const v: unknown = Reflect.get(t, key, t);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
}
