/** What a topic of this package exposes when it has a storage (see `LogState.synced`). */
interface Stored {
  readonly persistent?: boolean;
  synced?(): Promise<void>;
}

/**
 * For a topic with a storage: a function whose promise resolves once everything the topic has
 * accepted so far is as durable as a resolved `publish()` (a store syncs in order, so one sync
 * covers every earlier append). For a memory topic, or any other `Topic` implementation,
 * `undefined`: what it accepted is already as safe as it gets.
 */
export function syncOf(topic: object): (() => Promise<void>) | undefined {
  const t = topic as Stored;
  if (t.persistent !== true || typeof t.synced !== 'function') return undefined;
  return () => (t as Required<Stored>).synced();
}
