import { Hono } from 'hono';

/** The only files served from static/: a fixed list, so no request path reaches the filesystem. */
export const staticFiles: Readonly<Record<string, string>> = Object.freeze({
  'index.html': 'text/html; charset=utf-8',
  'client.html': 'text/html; charset=utf-8',
  'client.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
});

export function staticRoutes(read: (name: string) => Promise<Uint8Array | null>): Hono {
  const app = new Hono();
  const serve = async (name: string) => {
    const type = staticFiles[name];
    const body = type === undefined ? null : await read(name);
    if (type === undefined || body === null) return new Response('Not Found', { status: 404 });
    return new Response(body as BodyInit, { headers: { 'content-type': type, 'cache-control': 'no-cache' } });
  };
  app.get('/', () => serve('index.html'));
  app.get('/:name{[a-z0-9-]+\\.(?:html|js|css|svg)}', (c) => serve(c.req.param('name')));
  return app;
}
