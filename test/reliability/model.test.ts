import fc from 'fast-check';
import { describe, it } from 'vitest';
import { MODEL_RUNS, report, SEED, TIMEOUT } from './config.js';
import { check, commandsArb, configArb, finish, KNOWN, type Real, setupReal } from './harness.js';
import { Model, type Policy } from './model.js';

const POLICIES: Policy[] = ['block', 'drop-oldest', 'reject', 'grow'];

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
            let pair: { m: Model; r: Real } | undefined;
            const setup = () => {
              pair = { m: new Model(cfg, KNOWN), r: setupReal(cfg) };
              return { model: pair.m, real: pair.r };
            };
            await fc.asyncModelRun(setup, cmds);
            const { m, r } = pair as { m: Model; r: Real };
            steps += [...cmds].length;
            await check(m, r, 'end');
            await finish(m, r);
            if (m.tie) ties++;
          }),
          { numRuns: MODEL_RUNS, seed: SEED },
        );
        report(`model ${policy}: ${runs} sequences, ${steps} commands, ${ties} stopped at a timer tie, ${Date.now() - started} ms`);
      },
      TIMEOUT,
    );
  }
});
