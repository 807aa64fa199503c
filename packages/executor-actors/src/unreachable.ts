import { describeValue } from '@oddjob/core';

/**
 * The `never` default of an exhaustive switch: a new message kind or state that a switch does not
 * handle fails to compile there, and if an unchecked value slips in at run time it fails loudly.
 */
export function unreachable(value: never): never {
  throw new Error(`unreachable: ${describeValue((value as { kind?: unknown })?.kind ?? value)}`);
}
