/**
 * Statements only tests run, kept out of the production statement modules: the contract suite's
 * "bad stored data" case needs a job whose stored arguments are not JSON. Re-exported by the
 * package's testing entry point; the store itself never runs these.
 */
import type { SchemaNames } from './identifiers.js';
import { T, type BuiltStatement } from './statements.js';

/** corruptJobArgs — why: overwrites one job's args with text that is not JSON, by primary key. */
export function corruptJobArgs(n: SchemaNames, id: string): BuiltStatement {
  return {
    name: 'corruptJobArgs',
    usesNow: false,
    params: [
      { name: 'id', type: T.id, value: id },
      { name: 'junk', type: T.text, value: '{not json' },
    ],
    text: `UPDATE ${n.jobs} SET args = @junk WHERE id = @id;`,
  };
}
