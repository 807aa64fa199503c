import { expect } from 'chai';
import { retryWhileHolderVanishes, StorageUnavailableError, type KeyedInsertTry } from '../src/index.js';

type J = { id: string; uniqueKey: string | null };
const jobs: J[] = [
  { id: 'a', uniqueKey: 'k1' },
  { id: 'b', uniqueKey: 'k2' },
  { id: 'c', uniqueKey: null },
];

describe('retryWhileHolderVanishes', function () {
  it("tries again only the jobs whose holder vanished, and merges every try's answers", async function () {
    const sent: string[][] = [];
    const answers = await retryWhileHolderVanishes(
      jobs,
      async (pending, n): Promise<KeyedInsertTry<J>> => {
        sent.push(pending.map((j) => j.id));
        // first try: a is answered with its key's holder, b's holder was purged meanwhile
        if (n === 1)
          return {
            answers: new Map([
              ['a', 'holder-of-k1'],
              ['c', 'c'],
            ]),
            lost: pending.filter((j) => j.id === 'b'),
          };
        return { answers: new Map(pending.map((j) => [j.id, j.id])), lost: [] };
      },
      { tries: 5, provider: 'test', operation: 'insert' },
    );
    expect(sent).to.deep.equal([['a', 'b', 'c'], ['b']]);
    expect([...answers]).to.deep.equal([
      ['a', 'holder-of-k1'],
      ['c', 'c'],
      ['b', 'b'],
    ]);
  });

  it('gives up after `tries` with a StorageUnavailableError naming the keys', async function () {
    let calls = 0;
    const err = await retryWhileHolderVanishes(
      jobs,
      async (pending) => {
        calls++;
        return { answers: new Map(), lost: pending.filter((j) => j.uniqueKey !== null) };
      },
      { tries: 3, provider: 'test', operation: 'insert' },
    ).then(
      () => null,
      (e: unknown) => e,
    );
    expect(calls).to.equal(3);
    expect(err).to.be.instanceOf(StorageUnavailableError);
    expect((err as Error).message)
      .to.contain('k1, k2')
      .and.to.contain('after 3 tries');
  });
});
