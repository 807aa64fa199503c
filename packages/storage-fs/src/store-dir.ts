import { constants } from 'node:fs';
import { access, link, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StoreSetupError } from '@oddjob/core';
import { errnoCode, fsyncDir, isMissing, unlinkQuietly, writeTemp } from './durable.js';
import { Layout, MARKER_FILE } from './layout.js';
import { upgradeLayout } from './upgrade.js';

/**
 * The layout version this code reads and writes. A store made by a newer one is refused; one of
 * layout 1 or 2 is upgraded when opened (upgrade.ts).
 */
export const STORE_VERSION = 4;
const FORMAT = 'oddjob-fs';

function markerText(version: number): string {
  return JSON.stringify({ format: FORMAT, version }) + '\n';
}

/**
 * Makes `dir` an OddJob store: creates it (and its parents) if needed and writes the marker file.
 * A directory that already holds other things is refused, so that a typo cannot scatter job files
 * through someone's home directory. Creating an existing store is a no-op.
 */
export async function createStoreDir(dir: string): Promise<void> {
  const layout = new Layout(dir);
  await mkdir(dir, { recursive: true }).catch((err) => {
    throw new StoreSetupError(`cannot create store directory ${dir}: ${(err as Error).message}`, { cause: err });
  });
  const entries = await readdir(dir);
  if (entries.includes(MARKER_FILE)) return verifyStoreDir(dir);
  if (entries.length > 0) {
    throw new StoreSetupError(
      `${dir} is not empty and is not an OddJob store (no ${MARKER_FILE}); refusing to create a store among other files`,
    );
  }
  await writable(dir);
  for (const d of layout.topDirs) await mkdir(d, { recursive: true });
  await fsyncDir(dir);
  // The marker goes in last and by link, so a concurrent create by another process cannot write a
  // second one, and a crash before this point leaves an empty-looking directory, not a half store.
  const tmp = await writeTemp(layout.tmp, markerText(STORE_VERSION));
  try {
    await link(tmp, layout.marker);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
  } finally {
    await unlinkQuietly(tmp);
  }
  await fsyncDir(dir);
  await fsyncDir(dirname(dir)).catch(() => undefined);
}

async function writable(dir: string): Promise<void> {
  try {
    await access(dir, constants.W_OK | constants.R_OK | constants.X_OK);
  } catch (err) {
    throw new StoreSetupError(
      `store directory ${dir} is not readable and writable by this process (${errnoCode(err)})`,
      { cause: err },
    );
  }
}

/** Checks that `dir` is an OddJob store this code can use; throws StoreSetupError saying why not. */
export async function verifyStoreDir(dir: string): Promise<void> {
  const layout = new Layout(dir);
  let info;
  try {
    info = await stat(dir);
  } catch (err) {
    if (isMissing(err)) {
      throw new StoreSetupError(
        `store directory ${dir} does not exist; create it with FileJobStore.create(dir) or pass create: true`,
      );
    }
    throw new StoreSetupError(`cannot read store directory ${dir}: ${(err as Error).message}`, { cause: err });
  }
  if (!info.isDirectory()) throw new StoreSetupError(`${dir} is not a directory`);
  let text: string;
  try {
    text = await readFile(layout.marker, 'utf8');
  } catch (err) {
    if (isMissing(err)) {
      throw new StoreSetupError(
        `${dir} is not an OddJob store (it has no ${MARKER_FILE}); create one with FileJobStore.create(dir) or pass create: true`,
      );
    }
    throw new StoreSetupError(`cannot read ${layout.marker}: ${(err as Error).message}`, { cause: err });
  }
  let marker: { format?: unknown; version?: unknown };
  try {
    marker = JSON.parse(text) as typeof marker;
  } catch {
    throw new StoreSetupError(`${layout.marker} is not valid JSON; this directory is not a usable OddJob store`);
  }
  if (
    marker.format !== FORMAT ||
    typeof marker.version !== 'number' ||
    !Number.isInteger(marker.version) ||
    marker.version < 1
  ) {
    throw new StoreSetupError(`${layout.marker} does not describe an OddJob file store`);
  }
  if (marker.version > STORE_VERSION) {
    throw new StoreSetupError(
      `${dir} was made by a newer version of @oddjob/storage-fs (layout ${marker.version}; this one reads ${STORE_VERSION})`,
    );
  }
  await writable(dir);
  if (marker.version < STORE_VERSION) {
    await upgradeLayout(layout, marker.version, STORE_VERSION, markerText).catch((err: unknown) => {
      throw new StoreSetupError(
        `cannot upgrade ${dir} from layout ${String(marker.version)} to ${STORE_VERSION} (${(err as Error).message}); nothing is lost: opening it again finishes the upgrade`,
        { cause: err },
      );
    });
  }
  for (const d of layout.topDirs) {
    try {
      await access(d, constants.W_OK);
    } catch (err) {
      throw new StoreSetupError(`${d} is missing or not writable (${errnoCode(err)}); the store at ${dir} is damaged`, {
        cause: err,
      });
    }
  }
}
