import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/** The UI's files ship in the package (public/), so the dashboard works with no internet. */
const PUBLIC = fileURLToPath(new URL('../../public/', import.meta.url));
const FILES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'chart.js': 'text/javascript; charset=utf-8',
  'job-page.js': 'text/javascript; charset=utf-8',
  'sequences.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

/**
 * A fixed list of files, read once: a static plugin would add a dependency and path handling for
 * a handful of files that never change while the server runs.
 */
export async function registerStatic(app: FastifyInstance, prefix: string): Promise<void> {
  const cache = new Map<string, Buffer>();
  for (const name of Object.keys(FILES)) cache.set(name, await readFile(PUBLIC + name));
  const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
  const index = (await readFile(PUBLIC + 'index.html', 'utf8')).replaceAll('%BASE%', base);
  const headers = { 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' };
  app.get('/', { schema: { hide: true } }, async (req, reply) => {
    // The UI uses relative URLs, so its page must end with a slash.
    // Keep the query: it names the tenant (?tenant=NAME).
    const [path, query] = req.url.split('?');
    if (!path.endsWith('/')) return reply.redirect(`${path}/${query === undefined ? '' : `?${query}`}`);
    return reply.headers(headers).type('text/html; charset=utf-8').send(index);
  });
  for (const [name, type] of Object.entries(FILES)) {
    app.get(`/${name}`, { schema: { hide: true } }, async (_req, reply) =>
      reply.headers(headers).type(type).send(cache.get(name)),
    );
  }
}
