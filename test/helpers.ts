import { VirtualTimeScheduler } from 'rxjs';

/** Virtual time for engine tests: `advance(ms)` runs every timer due until then. */
export function virtualTime(): { scheduler: VirtualTimeScheduler; advance(ms: number): void; now(): number } {
  const scheduler = new VirtualTimeScheduler();
  return {
    scheduler,
    now: () => scheduler.now(),
    advance(ms: number) {
      const target = scheduler.frame + ms;
      scheduler.maxFrames = target;
      scheduler.flush();
      scheduler.frame = target;
    },
  };
}

/** Lets queued promise callbacks run. */
export function settle(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** Resolves true if `p` settles before a macrotask turn, false if it is still pending. */
export async function isPending(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await settle();
  return !done;
}

/** A small, seeded PRNG (mulberry32), so a failure can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
