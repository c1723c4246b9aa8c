import type { Delivery, NackOptions } from '../../types.js';
import type { DeliveryBatch } from '../types.js';

/** The {@link DeliveryBatch} implementation. */
class BatchImpl<T> implements DeliveryBatch<T> {
  private cachedValues: readonly T[] | undefined = undefined;

  constructor(readonly deliveries: readonly Delivery<T>[]) {}

  get values(): readonly T[] {
    return (this.cachedValues ??= this.deliveries.map((d) => d.value));
  }

  get size(): number {
    return this.deliveries.length;
  }

  ackAll(): number {
    let n = 0;
    for (const d of this.deliveries) if (d.ack()) n++;
    return n;
  }

  nackAll(options?: NackOptions): number {
    let n = 0;
    for (const d of this.deliveries) if (d.nack(options)) n++;
    return n;
  }

  termAll(reason?: string): number {
    let n = 0;
    for (const d of this.deliveries) if (d.term(reason)) n++;
    return n;
  }
}

export function createBatch<T>(deliveries: readonly Delivery<T>[]): DeliveryBatch<T> {
  return new BatchImpl(deliveries);
}
