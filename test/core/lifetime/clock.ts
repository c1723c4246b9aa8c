/**
 * Reports how long this script's process lived, from when its body started to the 'exit' event
 * (tsx's start-up left out): the parent test reads the last line, `lived <ms>`.
 */
const started = performance.now();
process.on('exit', (code) => {
  process.stdout.write(`lived ${Math.round(performance.now() - started)} exit ${code}\n`);
});
