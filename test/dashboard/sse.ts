/** Reads `count` Server-Sent Events (`id` and `data`) from `url`, then cancels the stream. */
export async function readEvents(url: string, count: number): Promise<{ id: string; data: string }[]> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
  if (!res.headers.get('content-type')?.startsWith('text/event-stream')) throw new Error(`${url}: not an event stream`);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: { id: string; data: string }[] = [];
  let buffer = '';
  try {
    while (events.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0 && events.length < count) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let id = '';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) id = line.slice(4);
          else if (line.startsWith('data: ')) data.push(line.slice(6));
        }
        if (data.length > 0) events.push({ id, data: data.join('\n') });
      }
    }
  } finally {
    await reader.cancel();
  }
  return events;
}
