/** The race's knobs come from the environment; every contender reads its own through this one parser. */

export class RaceConfigError extends Error {
  override name = 'RaceConfigError';
}

/** An integer from env `name`, at least `min`; `fallback` when unset or empty. */
export function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new RaceConfigError(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  return value;
}
