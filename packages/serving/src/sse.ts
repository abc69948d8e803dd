// Server-sent events on a hijacked fastify reply: the headers (CORS ones included) once, then
// `data: <json>\n\n` frames; writes after the client left are dropped.
import type { FastifyReply } from 'fastify';

export class SseWriter {
  private open = true;

  constructor(private readonly reply: FastifyReply) {
    reply.hijack();
    const headers: Record<string, string | number | string[]> = {};
    for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = v as string;
    reply.raw.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // The client sees 200 at once, even while the request waits in the queue.
    reply.raw.flushHeaders();
    reply.raw.on('close', () => (this.open = false));
  }

  get closed(): boolean {
    return !this.open || this.reply.raw.destroyed;
  }

  /** One `data:` frame (an optional `event:` name for the step stream). */
  send(data: unknown, event?: string): void {
    if (this.closed) return;
    this.reply.raw.write(
      `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`,
    );
  }

  end(): void {
    if (this.closed) return;
    this.open = false;
    this.reply.raw.end();
  }
}
