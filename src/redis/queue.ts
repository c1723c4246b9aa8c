import type { Item } from './item.js';

/** The entries a member has read and not handed out yet, oldest first: taken from the front without moving the rest. */
export class ItemQueue {
  private items: (Item | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: Item): void {
    this.items.push(item);
  }

  shift(): Item | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    }
    return item;
  }

  /** Removes every entry and answers them. */
  drain(): Item[] {
    const all = this.items.slice(this.head) as Item[];
    this.items = [];
    this.head = 0;
    return all;
  }

  /** Keeps only the entries `keep` accepts. */
  filter(keep: (item: Item) => boolean): void {
    this.items = (this.items.slice(this.head) as Item[]).filter(keep);
    this.head = 0;
  }
}
