/** What the timer reads and sets on a held delivery. */
export interface Timed {
  /** `at`: when the fetch answered (the server's ack timer started about then). */
  readonly item: { readonly at: number };
  /** When the local view of the ack timeout passes (Infinity: never). */
  deadline: number;
}

/**
 * A member's local view of the ack timeout: a held delivery goes stale when it passes (the server
 * lets another member claim it). One timer per member, not per delivery: it calls `expire` every
 * quarter of the ack timeout.
 */
export class AckTimer {
  private timer: ReturnType<typeof setInterval> | undefined = undefined;

  constructor(
    private readonly ms: number,
    private readonly expire: () => void,
  ) {}

  /**
   * Sets the delivery's deadline: the whole timeout from now if `fresh` (just touched), else what
   * is left of the server's timer, which runs from the fetch. Answers true if the delivery sat in
   * the buffer for more than half of it: then it is to be touched (inProgress) as it is handed out.
   */
  arm(d: Timed, fresh: boolean): boolean {
    const ms = this.ms;
    if (ms === Infinity) return false;
    const now = Date.now();
    let left = ms;
    let touch = false;
    if (!fresh) {
      const age = now - d.item.at;
      if (age > ms / 2) touch = true;
      else left = ms - age;
    }
    d.deadline = now + left;
    if (this.timer === undefined) {
      this.timer = setInterval(this.expire, Math.max(5, ms / 4));
      this.timer.unref?.();
    }
    return touch;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
