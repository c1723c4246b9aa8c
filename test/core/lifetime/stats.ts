// waits, then exits: a subscribed stats$ ticks; unsubscribed (by take), it holds nothing
import { take } from 'rxjs';
import { createBus } from 'ringbus';
import './clock.js'; // after ringbus: its load time is not counted

const bus = createBus();
bus.topic('t');
bus.stats$(100).pipe(take(3)).subscribe({
  next: (s) => console.log('tick', Object.keys(s.topics).join()),
  complete: () => console.log('done'),
});
