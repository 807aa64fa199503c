/**
 * A unique key as SQL Server compares it: `=` and unique indexes ignore trailing spaces (ANSI padding,
 * in every collation, BIN2 included), so "k" and "k " are one key there. The writer must match keys
 * the same way, or a job whose key differs from its holder's only by trailing spaces finds no holder
 * in the answer and is retried until it fails, and two such keys in one batch make the INSERT hit the
 * unique index (2601) on every try. Concurrency keys are compared the same way, for the same reason.
 */
export function keyIdentity(key: string): string {
  return key.replace(/ +$/, '');
}
