// exits: a stats$ subscription that was unsubscribed
import { createBus } from 'ringbus';
import './clock.js'; // after ringbus: its load time is not counted

const bus = createBus();
const sub = bus.stats$(30_000).subscribe();
sub.unsubscribe();
console.log('unsubscribed');
