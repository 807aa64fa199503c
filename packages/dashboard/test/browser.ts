import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.ODDJOB_CHROMIUM ?? '/usr/bin/chromium';
/** Git-ignored (see .gitignore): packages/dashboard/screenshots/. */
export const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'screenshots');

/**
 * Without a browser the suite skips with its reason on a developer's machine; under CI it fails, so
 * a missing browser can never pass as green.
 */
export function requireBrowser(ctx: Mocha.Context): void {
  if (existsSync(CHROMIUM)) return;
  const why = `no browser at ${CHROMIUM} (apt-get install -y chromium)`;
  if (process.env.CI) throw new Error(`${why}; CI is set, so the browser suite must run`);
  console.warn(`    skipping: ${why}`);
  ctx.skip();
}

export async function launch(): Promise<{ browser: BrowserContext; close(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'oddjob-chromium-'));
  await mkdir(SCREENSHOTS, { recursive: true });
  // A fresh profile (--user-data-dir) per run: playwright passes it for a persistent context.
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    close: async () => {
      try {
        await within('closing the browser', browser.close());
      } finally {
        await rm(profile, { recursive: true, force: true });
      }
    },
  };
}

/**
 * A teardown step bounded in time, failing with its own name: a hook that hangs would otherwise
 * end as mocha's bare timeout, which does not say which of several steps never finished.
 */
export async function within<T>(what: string, step: Promise<T> | undefined, ms = 30_000): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([step, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every teardown step, each bounded, even when one fails; then reports the first failure. */
export async function tearDown(steps: Array<[string, () => Promise<unknown> | undefined]>): Promise<void> {
  let first: Error | null = null;
  for (const [what, step] of steps)
    try {
      await within(what, step());
    } catch (err) {
      first ??= err instanceof Error ? err : new Error(`${what} failed: ${String(err)}`);
    }
  if (first !== null) throw first;
}
