import type { PulledMessage } from './pull.js';

/**
 * Nacks given in one turn go out when it ends, lowest offset first (JetStream redelivers in the
 * order it was told); `settling` holds until the server has seen them, so that a member's next
 * pull waits for them and a nacked message comes back before newer ones.
 */
export class NakBatch {
  settling: Promise<void> | undefined = undefined;
  private naks: { msg: PulledMessage; delayMs: number }[] = [];

  constructor(
    /** Resolves once the server has seen everything sent so far. */
    private readonly flush: () => Promise<void>,
    /** The server has this turn's nacks: pull again. */
    private readonly settled: () => void,
  ) {}

  add(msg: PulledMessage, delayMs: number): void {
    if (this.naks.length === 0) {
      const settling = new Promise<void>((resolve) =>
        queueMicrotask(() => {
          const naks = this.naks.sort((a, b) => a.msg.seq - b.msg.seq);
          this.naks = [];
          for (const n of naks) n.msg.nak(n.delayMs > 0 ? n.delayMs : undefined);
          this.flush().then(resolve, () => resolve());
        }),
      );
      this.settling = settling;
      void settling.then(() => {
        if (this.settling === settling) this.settling = undefined;
        this.settled();
      });
    }
    this.naks.push({ msg, delayMs });
  }
}
