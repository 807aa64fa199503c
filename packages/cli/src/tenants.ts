import { TENANT_PATTERN } from '@oddjob/core';
/**
 * Which stores a command addresses: one plain store (`--store URL`, ODDJOB_STORE) or several under
 * tenant names (`--store NAME=URL` repeated, ODDJOB_TENANTS). Only parsing: nothing is opened here.
 */
import { CliError } from './errors.js';
import { parseStoreSpec, type StoreSpec } from './store.js';

export interface NamedSpec {
  name: string;
  spec: StoreSpec;
}

export type StoreSet =
  { kind: 'single'; spec: StoreSpec } | { kind: 'tenants'; tenants: NamedSpec[]; from: '--store' | 'ODDJOB_TENANTS' };

export interface StoreInputs {
  /** Every --store value, in order (undefined when none was given). */
  stores?: readonly string[];
  schema?: string;
  env: { ODDJOB_STORE?: string; ODDJOB_TENANTS?: string; ODDJOB_SCHEMA?: string };
}

const set = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

/**
 * Precedence: --store (every one given) over ODDJOB_TENANTS over ODDJOB_STORE. The environment is a
 * default for whoever sets it in a profile; a command line names what this one run is about.
 */
export function resolveStores(input: StoreInputs): StoreSet {
  const schema = input.schema ?? (set(input.env.ODDJOB_SCHEMA) ? input.env.ODDJOB_SCHEMA : undefined);
  if (input.stores !== undefined && input.stores.length > 0) return fromStoreOptions(input.stores, schema);
  if (set(input.env.ODDJOB_TENANTS)) {
    const pairs = parseTenantsEnv(input.env.ODDJOB_TENANTS);
    return { kind: 'tenants', tenants: named(pairs, schema, 'ODDJOB_TENANTS'), from: 'ODDJOB_TENANTS' };
  }
  return { kind: 'single', spec: parseStoreSpec(input.env.ODDJOB_STORE, schema) };
}

/**
 * `NAME=URL` names a tenant only when NAME follows the tenant rule; anything else (a path or URL with
 * `=` in it, as `postgres://h/db?sslmode=require`) is a plain store location, exactly as before tenants.
 */
export function splitTenantForm(value: string): { name: string; location: string } | null {
  const eq = value.indexOf('=');
  if (eq <= 0) return null;
  const name = value.slice(0, eq);
  return TENANT_PATTERN.test(name) ? { name, location: value.slice(eq + 1) } : null;
}

function fromStoreOptions(values: readonly string[], schema: string | undefined): StoreSet {
  const forms = values.map((v) => ({ value: v, tenant: splitTenantForm(v) }));
  const plain = forms.filter((f) => f.tenant === null);
  if (plain.length === forms.length) {
    if (plain.length > 1)
      throw new CliError(
        `--store given ${plain.length} times without names: give one store, or name each as --store NAME=URL`,
      );
    return { kind: 'single', spec: parseStoreSpec(values[0], schema) };
  }
  if (plain.length > 0)
    throw new CliError(
      `--store ${JSON.stringify(plain[0].value)} has no tenant name while others do: name every store (--store NAME=URL) or give one plain --store`,
    );
  const pairs = forms.map((f) => f.tenant as { name: string; location: string });
  return { kind: 'tenants', tenants: named(pairs, schema, '--store'), from: '--store' };
}

function named(
  pairs: readonly { name: string; location: string }[],
  schema: string | undefined,
  where: string,
): NamedSpec[] {
  const seen = new Set<string>();
  return pairs.map(({ name, location }) => {
    if (seen.has(name)) throw new CliError(`${where}: tenant ${JSON.stringify(name)} is given twice`);
    seen.add(name);
    if (location.trim() === '') throw new CliError(`${where}: tenant ${JSON.stringify(name)} has no store after "="`);
    try {
      return { name, spec: parseStoreSpec(location, schema) };
    } catch (err) {
      throw new CliError(`${where}: tenant ${name}: ${(err as Error).message}`);
    }
  });
}

const ENTRY_FORM = 'NAME=STORE,NAME=STORE or a JSON object {"NAME":"STORE"}';

/** `{"a":"url","b":"url"}` or `a=url,b=url`; names follow the tenant rule in both. */
export function parseTenantsEnv(text: string): { name: string; location: string }[] {
  const trimmed = text.trim();
  return trimmed.startsWith('{') ? parseJsonForm(trimmed) : parseListForm(trimmed);
}

function parseJsonForm(text: string): { name: string; location: string }[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CliError(`ODDJOB_TENANTS is not valid JSON: ${(err as Error).message} (expected ${ENTRY_FORM})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new CliError(`ODDJOB_TENANTS must be ${ENTRY_FORM}`);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) throw new CliError('ODDJOB_TENANTS is an empty object: name at least one store');
  for (const [name, location] of entries) {
    if (typeof location !== 'string')
      throw new CliError(`ODDJOB_TENANTS: tenant ${JSON.stringify(name)} must map to a store string`);
    checkName(name);
  }
  // JSON.parse keeps the last of two equal keys without a word. The object is flat and every value is
  // a string (checked above), so its string tokens alternate key, value: count the keys among them.
  const tokens = text.match(/"(?:[^"\\]|\\.)*"/g) ?? [];
  const keys = tokens.filter((_t, i) => i % 2 === 0).map((t) => JSON.parse(t) as string);
  const dup = keys.find((k, i) => keys.indexOf(k) !== i);
  if (dup !== undefined) throw new CliError(`ODDJOB_TENANTS: tenant ${JSON.stringify(dup)} is given twice`);
  return entries.map(([name, location]) => ({ name, location: location as string }));
}

/**
 * A comma that starts the next `NAME=`, NAME by core's tenant rule (its source without the anchors):
 * a multi-host URL (postgres://h1,h2/db) keeps its commas.
 */
const NEXT_ENTRY = new RegExp(`,(?=\\s*${TENANT_PATTERN.source.replace(/^\^|\$$/g, '')}=)`);

function parseListForm(text: string): { name: string; location: string }[] {
  const parts = text.split(NEXT_ENTRY).map((p) => p.trim());
  return parts.map((part) => {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new CliError(`ODDJOB_TENANTS entry ${JSON.stringify(part)}: expected ${ENTRY_FORM}`);
    const name = part.slice(0, eq).trim();
    checkName(name);
    return { name, location: part.slice(eq + 1).trim() };
  });
}

function checkName(name: string): void {
  if (!TENANT_PATTERN.test(name))
    throw new CliError(
      `ODDJOB_TENANTS: tenant name ${JSON.stringify(name)} must be 1 to 100 letters, digits, "_", "." or "-"`,
    );
}
