/**
 * Recovery: what a topic's store found, applied to the memory engine's ring and groups in one
 * turn, and the store's journal attached from then on.
 */
import type { RecoveredTopic, StoredMessage, TopicStore } from '../../storage.js';
import type { Group } from '../memory/group/group.js';
import { delay } from '../memory/log-delays.js';
import { relayout } from '../memory/log-retention.js';
import { pow2AtLeast } from '../memory/ring.js';
import type { TopicImpl } from '../memory/topic.js';
import { StoreJournal } from './journal.js';

/**
 * Takes `store` as `topic`'s and applies what it recovered: the ring, the durable groups, and
 * the groups made while it opened, which start where they asked, against the recovered offsets.
 */
export function applyRecovery<T>(topic: TopicImpl<T>, store: TopicStore, r: RecoveredTopic, messages: Iterable<StoredMessage>): void {
  const journal = new StoreJournal(store, topic.levelCount);
  topic.journal = journal;
  recover(topic, r, messages);
  for (const [g, startOf] of topic.starts) {
    if (g.durable && r.groups.some((sg) => sg.name === g.name)) continue; // placed by recover()
    const start = startOf();
    g.reopen(start, journal);
    g.updateDirect();
    if (g.durable) journal.group({ kind: 'create', group: g.name, offset: start });
    topic.committedLowered(start);
  }
}

/** Rebuilds the ring and the durable groups from what the store recovered. */
function recover<T>(topic: TopicImpl<T>, r: RecoveredTopic, messages: Iterable<StoredMessage>): void {
  const ring = topic.ring;
  let empty = true;
  for (const m of messages) {
    if (empty) {
      ring.startAt(m.offset);
      empty = false;
    } else if (m.offset < ring.tail) continue;
    fit(topic, m.offset + 1);
    if (m.offset > ring.tail) ring.skipTo(m.offset);
    ring.append(m.value as T, m.key, m.headers, m.timestamp, m.expires);
    if (topic.levelOf !== undefined) topic.levelOf[m.offset & ring.mask] = Math.min(m.priority ?? 0, topic.levelCount - 1);
    if (m.expires !== Infinity) {
      topic.expiry.add(m.expires, m.offset);
      topic.ttlActive = true;
    }
    // a message due while the process was down is due now
    if (m.due !== undefined && m.due > topic.scheduler.now()) delay(topic, m.offset, m.due);
  }
  if (empty) ring.startAt(r.tail);
  else if (r.tail > ring.tail) {
    fit(topic, r.tail);
    ring.skipTo(r.tail);
  }
  topic.published = ring.tail;
  for (const sg of r.groups) {
    const start = Math.max(ring.head, Math.min(sg.committed, ring.tail));
    const made = topic.groups.get(sg.name); // made while the store opened
    let g: Group<T>;
    if (made !== undefined && made.durable) {
      g = made;
      g.reopen(start, topic.journal);
      g.updateDirect();
      topic.committedLowered(start);
    } else g = topic.addGroup(sg.name, true, start, false);
    g.restore(sg);
  }
  const corrupt = r.corrupt;
  if (corrupt !== undefined && corrupt.length > 0) {
    // after this turn, so a dead-letter topic created right after this one gets its own options
    queueMicrotask(() => {
      for (const c of corrupt) {
        const h = { 'x-original-offsets': `${c.offset}..${c.end - 1}` };
        void topic.deadLetter('', c.offset, 'corrupt', c.detail, 0, c.bytes as T, undefined, h);
      }
    });
  }
}

/** Makes the ring wide enough for offsets up to `end` (exclusive). */
function fit<T>(topic: TopicImpl<T>, end: number): void {
  const need = end - topic.ring.head;
  if (need > topic.ring.slots) relayout(topic, pow2AtLeast(need));
}
