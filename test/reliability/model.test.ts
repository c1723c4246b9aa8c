import fc from 'fast-check';
import { describe, it } from 'vitest';
import { MODEL_RUNS, report, SEED, TIMEOUT } from './config.js';
import {
  AdvanceCmd,
  BatchCmd,
  check,
  CloseCmd,
  commandsArb,
  configArb,
  finish,
  KNOWN,
  OpenCmd,
  PublishCmd,
  type Real,
  RecvCmd,
  SettleCmd,
  setupReal,
} from './harness.js';
import { Model, type ModelConfig, type Policy } from './model.js';

const POLICIES: Policy[] = ['block', 'drop-oldest', 'reject', 'grow'];

async function runPair(cfg: ModelConfig, cmds: Iterable<fc.AsyncCommand<Model, Real>>): Promise<Model> {
  let pair: { m: Model; r: Real } | undefined;
  const setup = () => {
    pair = { m: new Model(cfg, KNOWN), r: setupReal(cfg) };
    return { model: pair.m, real: pair.r };
  };
  await fc.asyncModelRun(setup, cmds);
  const { m, r } = pair as { m: Model; r: Real };
  await check(m, r, 'end');
  await finish(m, r);
  return m;
}

describe('model-based: one topic, durable groups, random operation sequences', () => {
  for (const policy of POLICIES) {
    it(
      `${policy}: the engine matches the reference model after every step, and every message has exactly one fate`,
      async () => {
        let runs = 0;
        let ties = 0;
        let steps = 0;
        const started = Date.now();
        await fc.assert(
          fc.asyncProperty(configArb(policy), commandsArb(), async (cfg, cmds) => {
            runs++;
            steps += [...cmds].length;
            if ((await runPair(cfg, cmds)).tie) ties++;
          }),
          { numRuns: MODEL_RUNS, seed: SEED },
        );
        report(`model ${policy}: ${runs} sequences, ${steps} commands, ${ties} stopped at a timer tie, ${Date.now() - started} ms`);
      },
      TIMEOUT,
    );
  }
});

/**
 * Shrunk counterexamples of deep runs where the model, not the engine, was wrong: replayed on
 * every run, so neither side drifts back.
 */
describe('model-based: replays of deep-run counterexamples', () => {
  const base = { maxCapacity: 3, growthFactor: 1.5, shrinkThreshold: 0.25, ttlMs: Infinity, groups: ['a', 'b'] };

  it('two groups’ ack-timeout sweeps due at the same instant run in the order they were armed (seed 1208526962)', async () => {
    const cfg: ModelConfig = { ...base, policy: 'block', capacity: 3, ackTimeoutMs: 5.5, maxDeliveries: 1 };
    await runPair(cfg, [
      new OpenCmd(0, 2, true, false),
      new PublishCmd('try', undefined),
      new OpenCmd(1, 1, true, false),
      new PublishCmd('try', undefined),
      new PublishCmd('try', undefined),
      new RecvCmd(1, 1, false),
      new OpenCmd(0, 1, false, true),
      new SettleCmd('ack', 0, false, 0),
      new RecvCmd(4, 1, false),
      new PublishCmd('await', undefined),
      new SettleCmd('ack', 0, false, 0),
      new RecvCmd(0, 2, false),
      new RecvCmd(2, 1, false),
      new RecvCmd(4, 1, false),
      new BatchCmd(3, undefined),
      new AdvanceCmd(7),
    ]);
  });

  it('a member leaving keeps the ack-timeout sweep in its phase (seed 1542262080)', async () => {
    const cfg: ModelConfig = { ...base, groups: ['a'], policy: 'block', capacity: 1, maxCapacity: 1, ttlMs: 33.015625, ackTimeoutMs: 32.5, maxDeliveries: 1 };
    await runPair(cfg, [
      new PublishCmd('try', undefined),
      new OpenCmd(0, 1, false, false),
      new RecvCmd(0, 1, false),
      new AdvanceCmd(8),
      new CloseCmd(0),
      new BatchCmd(1, undefined),
      new OpenCmd(0, 1, false, false),
      new RecvCmd(1, 1, false),
      new AdvanceCmd(33),
    ]);
  });

  it('an expiry clamps every group before it admits waiting publishers (seed 184670638)', async () => {
    const cfg: ModelConfig = { ...base, policy: 'block', capacity: 3, ackTimeoutMs: Infinity, maxDeliveries: Infinity };
    await runPair(cfg, [
      new OpenCmd(0, 3, false, false),
      new BatchCmd(4, 2 + 1 / 64),
      new RecvCmd(0, 3, false),
      new SettleCmd('nackDelay', 4, true, 1.25),
      new OpenCmd(1, 1, true, false),
      new BatchCmd(3, undefined),
      new AdvanceCmd(1),
      new RecvCmd(9, 1, false),
      new SettleCmd('nackDelay', 2, false, 1.25),
    ]);
  });
});
