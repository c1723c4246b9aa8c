// Runs src/node/cli.ts (started by bin/ringbus.mjs with `--conditions=ringbus-source --import tsx`).
const { run } = await import('../src/node/cli.ts');
await run(process.argv.slice(2));
