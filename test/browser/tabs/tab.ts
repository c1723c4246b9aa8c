// One tab of the tab tests: a `portEngine` client of the bus the SharedWorker at /bus-worker.js
// serves to every tab. The test drives it through `window.tab`.
//
// The heartbeat is slowed to a minute, so a departed tab whose deliveries come back within
// seconds was detected by its Web Lock. `?nolocks&heartbeatMs=n` hides the Web Locks API
// (as in a browser without it) and sets the heartbeat, to measure the fallback. `?dedicated`
// connects to a bus of this tab's own, in a dedicated Worker (/dedicated-worker.js).
import { ClosedError, type Consumer, createBus, portEngine, type TopicOptions } from '../../../src/index.js';

const query = new URLSearchParams(location.search);
if (query.has('nolocks')) Object.defineProperty(navigator, 'locks', { value: undefined });
const heartbeatMs = Number(query.get('heartbeatMs') ?? 60_000);
let dedicated: Worker | undefined;
let port: MessagePort;
if (query.has('dedicated')) {
  dedicated = new Worker('/dedicated-worker.js', { type: 'module' });
  const channel = new MessageChannel();
  dedicated.postMessage(channel.port2, [channel.port2]);
  port = channel.port1;
} else {
  port = new SharedWorker('/bus-worker.js', { type: 'module', name: 'ringbus' }).port;
}
const bus = createBus({ engine: portEngine(port, { heartbeatMs }) });

/** A delivery as the test sees it; `at` is the wall time it arrived. */
export interface Seen {
  offset: number;
  value: number;
  deliveryCount: number;
  at: number;
}

const seen = new Map<string, Seen[]>();
let mirrored: { announce(text: string): Promise<void>; got: string[] } | undefined;
const held = new Map<string, Consumer<number>>();

function record(key: string, d: { offset: number; value: number; deliveryCount: number }): void {
  const list = seen.get(key) ?? [];
  list.push({ offset: d.offset, value: d.value, deliveryCount: d.deliveryCount, at: Date.now() });
  seen.set(key, list);
}

const tab = {
  ready: () => bus.ready(),
  open(topic: string, options: TopicOptions<number>): void {
    bus.topic<number>(topic, options);
  },
  publish: (topic: string, values: number[]) => bus.topic<number>(topic).publishBatch(values),
  /** Handles `group`'s messages one at a time, acking each after `delayMs`; what it got under `topic/group`. */
  work(topic: string, group: string, delayMs: number): void {
    const key = `${topic}/${group}`;
    seen.set(key, []);
    void (async () => {
      for await (const d of bus.topic<number>(topic).consumer({ group, prefetch: 1 })) {
        record(key, d);
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        d.ack();
      }
    })();
  },
  /** Takes `n` deliveries of `group` and holds them unsettled; resolves with their offsets. */
  async hold(topic: string, group: string, n: number): Promise<number[]> {
    const key = `${topic}/${group}`;
    seen.set(key, []);
    const c = bus.topic<number>(topic).consumer({ group, prefetch: n });
    held.set(key, c);
    for (let i = 0; i < n; i++) {
      const d = await c.recv();
      if (d === undefined) throw new Error(`${key}: the consumer ended after ${i} of ${n} deliveries`);
      record(key, d);
    }
    return seen.get(key)!.map((s) => s.offset);
  },
  seen: (topic: string, group: string): Seen[] => seen.get(`${topic}/${group}`) ?? [],
  /**
   * The BroadcastChannel fallback of docs/engines.md, as written there: a bus of this tab's own
   * whose topic `news` is mirrored to and from the other tabs; `announce` publishes, `mirrored`
   * is what a subscriber of this tab's `news` got.
   */
  mirror(): void {
    const local = createBus();
    const news = local.topic<string>('news');
    const others = new BroadcastChannel('ringbus:news');
    others.onmessage = (e: MessageEvent<string>) => void news.publish(e.data); // from another tab
    async function announce(text: string): Promise<void> {
      await news.publish(text); // this tab's subscribers
      others.postMessage(text); // every other tab's
    }
    const got: string[] = [];
    news.values().subscribe((v) => got.push(v));
    mirrored = { announce, got };
  },
  announce: (text: string) => mirrored!.announce(text),
  mirrored: () => mirrored!.got,
  /**
   * Waits on `recv` in `group` while the dedicated worker serving this tab's bus is terminated;
   * resolves with how the wait ended, how many ms after the termination, and how a publish then ends.
   */
  async outlive(topic: string, group: string): Promise<{ recv: string; ms: number; publish: string }> {
    const outcome = (p: Promise<unknown>): Promise<string> =>
      p.then(
        (v) => `resolved ${String(v)}`,
        (e: unknown) => (e instanceof ClosedError ? `ClosedError: ${e.message}` : `rejected ${String(e)}`),
      );
    const waiting = outcome(bus.topic<number>(topic).consumer({ group }).recv());
    await new Promise((r) => setTimeout(r, 50));
    const start = Date.now();
    dedicated!.terminate();
    const recv = await waiting;
    return { recv, ms: Date.now() - start, publish: await outcome(bus.topic<number>(topic).publish(1)) };
  },
  /** The topic's figures as the served bus reports them now. */
  async stats(topic: string) {
    const t = bus.topic<number>(topic);
    const before = t.stats(); // the last figures received; asks for fresh ones
    for (;;) {
      await new Promise((r) => setTimeout(r, 5));
      const now = t.stats();
      if (now !== before) return now;
    }
  },
};

(globalThis as { tab?: typeof tab }).tab = tab;

/** What `window.tab` offers the test. */
export type TabApi = typeof tab;
