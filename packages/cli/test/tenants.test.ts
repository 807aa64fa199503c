import { expect } from 'chai';
import { CliError } from '../src/errors.js';
import { parseTenantsEnv, resolveStores, splitTenantForm } from '../src/tenants.js';

/** The parsing alone, in process: the edge cases cost a child process each through the binary. */
describe('tenant store parsing', () => {
  const env = {};

  it('takes NAME=STORE only when NAME follows the tenant rule', () => {
    expect(splitTenantForm('eu-1.x_y=postgres://h/db')).to.deep.equal({
      name: 'eu-1.x_y',
      location: 'postgres://h/db',
    });
    for (const plain of ['/data/x=y', 'postgres://h/db?sslmode=require', '=x', 'a b=c', `${'n'.repeat(101)}=x`])
      expect(splitTenantForm(plain), plain).to.equal(null);
    const one = resolveStores({ stores: ['postgres://u:p@h/db?sslmode=require'], env });
    expect(one.kind).to.equal('single');
  });

  it('keeps the commas of a multi-host URL in the list form, and reads names with escapes in JSON', () => {
    expect(parseTenantsEnv(' a=postgres://h1,h2/db , b=/srv/b ')).to.deep.equal([
      { name: 'a', location: 'postgres://h1,h2/db' },
      { name: 'b', location: '/srv/b' },
    ]);
    expect(parseTenantsEnv('{"a":"x\\"y","b":"z"}').map((t) => t.name)).to.deep.equal(['a', 'b']);
    expect(() => parseTenantsEnv('{"a":"x\\",\\"a\\":","a":"y"}')).to.throw(CliError, 'tenant "a" is given twice');
  });

  it('prefers --store over ODDJOB_TENANTS over ODDJOB_STORE, and --schema over ODDJOB_SCHEMA for every tenant', () => {
    const all = { ODDJOB_STORE: '/one', ODDJOB_TENANTS: 'a=/a,b=/b', ODDJOB_SCHEMA: 's1' };
    const fromEnv = resolveStores({ env: all });
    expect(
      fromEnv.kind === 'tenants' && fromEnv.tenants.map((t) => [t.name, t.spec.location, t.spec.schema]),
    ).to.deep.equal([
      ['a', '/a', 's1'],
      ['b', '/b', 's1'],
    ]);
    const fromFlag = resolveStores({ stores: ['/flag'], schema: 's2', env: all });
    expect(fromFlag.kind === 'single' && [fromFlag.spec.location, fromFlag.spec.schema]).to.deep.equal(['/flag', 's2']);
    const fallback = resolveStores({ env: { ...all, ODDJOB_TENANTS: ' ' } });
    expect(fallback.kind === 'single' && fallback.spec.location).to.equal('/one');
  });
});
