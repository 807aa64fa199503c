/**
 * A value as text for an error message: what a user passed, shown so they recognise it. `String()`
 * would print `[object Object]` for an object and throws for some values (a null-prototype object, a
 * revoked Proxy); JSON shows objects, and anything that cannot be shown becomes its type. Never throws.
 */
export function describeValue(value: unknown): string {
  try {
    if (typeof value === 'string') return JSON.stringify(value);
    if (typeof value === 'bigint') return `${value}n`;
    if (value === undefined || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'symbol')
      return String(value);
    if (typeof value === 'function') return `a function${value.name ? ` (${value.name})` : ''}`;
    const json = JSON.stringify(value);
    return json === undefined ? typeof value : json.length > 200 ? `${json.slice(0, 200)}…` : json;
  } catch {
    return typeof value === 'object' && value !== null ? 'an object that cannot be shown' : typeof value;
  }
}
