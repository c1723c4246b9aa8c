/**
 * The SharedWorker of the demo: one bus for every tab of the origin. Each tab that starts it
 * (`new SharedWorker('bus-worker.js', { type: 'module' })`) gets the bus served on its port; the
 * tabs are `portEngine` clients (tab.ts). The bus lives while at least one tab is open.
 */
import { createBus, serveBus } from 'ringbus';

const bus = createBus();
// the work queue: one group, `workers`, whose members (one per tab) compete for the jobs
bus.topic('jobs', { capacity: 1_000, groups: ['workers'] });

addEventListener('connect', (e) => serveBus(bus, (e as MessageEvent).ports[0]));
