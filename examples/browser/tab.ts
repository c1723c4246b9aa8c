/**
 * One tab of the demo: a `portEngine` client of the bus the SharedWorker (bus-worker.ts) serves to
 * every tab. It publishes jobs at the rate set on the page, handles jobs as a member of the group
 * `workers` (competing with the other tabs), and shows the queue's figures from `bus.stats$`.
 */
import uPlot from 'uplot';
import { type BusStats, createBus, portEngine } from 'ringbus';

interface Job {
  readonly tab: string;
  readonly n: number;
}

const $ = <E extends HTMLElement>(selector: string): E => document.querySelector<E>(selector)!;
const status = $('#status');

if (typeof SharedWorker === 'undefined') {
  status.textContent = 'this browser has no SharedWorker: see docs/engines.md for the fallback';
  status.className = 'status error';
  throw new Error('no SharedWorker');
}

const worker = new SharedWorker(new URL('bus-worker.js', location.href), { type: 'module', name: 'ringbus-demo' });
const bus = createBus({ engine: portEngine(worker.port) });
const jobs = bus.topic<Job>('jobs');
const tabId = crypto.randomUUID().slice(0, 8);

/** What this tab did: publishes that resolved, jobs it handled and acked. */
const counts = { published: 0, handled: 0, redelivered: 0 };

function show(key: keyof typeof counts): void {
  $(`[data-tab="${key}"]`).textContent = counts[key].toLocaleString('en-US');
}

// Producing: one job every 1000/rate ms.
const rate = $<HTMLInputElement>('#rate');
let producing = true;
async function produce(): Promise<void> {
  for (let n = 0; !bus.closed; ) {
    const perSecond = Number(rate.value);
    if (!producing || perSecond === 0) {
      await sleep(200);
      continue;
    }
    await jobs.publish({ tab: tabId, n: n++ });
    counts.published++;
    show('published');
    await sleep(1000 / perSecond);
  }
}

// Working: one job at a time, each taking the time set on the page; pausing closes the member,
// which gives back the job it holds.
const work = $<HTMLInputElement>('#work');
let working: AbortController | undefined;
async function handle(signal: AbortSignal): Promise<void> {
  for await (const d of jobs.consumer({ group: 'workers', prefetch: 1, signal })) {
    await sleep(Number(work.value));
    if (d.ack()) {
      counts.handled++;
      if (d.deliveryCount > 1) counts.redelivered++;
      show('handled');
      show('redelivered');
    }
  }
}
function startWorking(): void {
  working = new AbortController();
  handle(working.signal).catch((e: unknown) => {
    if (!working?.signal.aborted) fail(e);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function fail(e: unknown): void {
  status.textContent = `error: ${e instanceof Error ? e.message : String(e)}`;
  status.className = 'status error';
}

for (const id of ['rate', 'work']) {
  const input = $<HTMLInputElement>(`#${id}`);
  input.addEventListener('input', () => ($(`#${id}-value`).textContent = input.value));
}
$('#produce').addEventListener('click', (e) => {
  producing = !producing;
  (e.target as HTMLElement).textContent = producing ? 'pause producing' : 'resume producing';
});
$('#handle').addEventListener('click', (e) => {
  if (working === undefined) startWorking();
  else {
    working.abort();
    working = undefined;
  }
  (e.target as HTMLElement).textContent = working === undefined ? 'resume working' : 'pause working';
});

// The live view: figures and two charts, a sample every 500 ms.
const WINDOW = 120;
const axes = [{ stroke: '#8b98a5', grid: { stroke: '#2a3540' } }, { stroke: '#8b98a5', grid: { stroke: '#2a3540' }, size: 50 }];
function chart(id: string, series: { label: string; stroke: string; fill?: string }[]): { plot: uPlot; data: (number | null)[][] } {
  const box = $(`#${id}`);
  const data: (number | null)[][] = [[], ...series.map(() => [])];
  const plot = new uPlot(
    {
      width: Math.max(320, box.clientWidth),
      height: 180,
      legend: { live: false },
      cursor: { show: false },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      axes,
      series: [{}, ...series.map((s) => ({ ...s, width: 1.5, points: { show: false } }))],
    },
    data as uPlot.AlignedData,
    box,
  );
  return { plot, data };
}
const rates = chart('rates', [
  { label: 'publish', stroke: '#4fa3ff' },
  { label: 'ack', stroke: '#3ecf8e' },
]);
const depth = chart('depth', [
  { label: 'depth', stroke: '#4fa3ff', fill: 'rgba(79,163,255,0.15)' },
  { label: 'lag', stroke: '#f5a524' },
  { label: 'in flight', stroke: '#c084fc' },
]);

function push(c: { plot: uPlot; data: (number | null)[][] }, x: number, values: (number | null)[]): void {
  c.data[0].push(x);
  values.forEach((v, i) => c.data[i + 1].push(v));
  if (c.data[0].length > WINDOW) for (const column of c.data) column.shift();
  c.plot.setData(c.data as uPlot.AlignedData);
}

const fmt = (n: number | null): string => (n === null ? '–' : Math.abs(n) >= 100 || Number.isInteger(n) ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
let previous: { timestamp: number; published: number; acked: number } | undefined;
let samples = 0;

function render(s: BusStats): void {
  const t = s.topics.jobs;
  if (t === undefined) return;
  const g = t.groups.workers;
  let publishRate: number | null = null;
  let ackRate: number | null = null;
  if (previous !== undefined && s.timestamp > previous.timestamp) {
    const dt = (s.timestamp - previous.timestamp) / 1000;
    publishRate = (t.published - previous.published) / dt;
    ackRate = (g.acked - previous.acked) / dt;
  }
  previous = { timestamp: s.timestamp, published: t.published, acked: g.acked };
  const figures: Record<string, number | null> = { published: t.published, depth: t.tail - g.next, lag: g.lag, pending: g.pending, acked: g.acked, members: g.members, publishRate, ackRate };
  for (const [key, value] of Object.entries(figures)) $(`[data-figure="${key}"]`).textContent = fmt(value);
  const x = s.timestamp / 1000;
  push(rates, x, [publishRate, ackRate]);
  push(depth, x, [t.tail - g.next, g.lag, g.pending]);
  document.body.dataset.samples = String(++samples);
}

bus.ready().then(
  () => {
    status.textContent = `live · tab ${tabId}`;
    status.className = 'status live';
    bus.stats$(500).subscribe(render);
    startWorking();
    produce().catch(fail);
  },
  fail,
);

// For the demo's test (test/browser/demo.test.ts): this tab's counts and its bus.
(globalThis as { demo?: unknown }).demo = { counts, bus };
