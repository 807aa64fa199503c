#!/usr/bin/env node
/**
 * Prints the migration script for a DBA to run by hand:
 *
 *   node packages/storage-sqlserver/dist/src/bin/print-migrations.js --schema oddjob > oddjob.sql
 *   sqlcmd -S host -d db -U user -i oddjob.sql
 *
 * It connects to nothing. The script is idempotent (applied migrations are skipped) and atomic.
 */
import { schemaNames, validateIdentifier } from '../identifiers.js';
import { migrationScript } from '../migrations.js';

function main(argv: string[]): number {
  let schema = 'oddjob';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--schema') schema = argv[++i] ?? '';
    else if (arg.startsWith('--schema=')) schema = arg.slice('--schema='.length);
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: print-migrations [--schema NAME]   (default schema: oddjob)\n');
      return 0;
    } else {
      process.stderr.write(`unknown argument ${JSON.stringify(arg)}; usage: print-migrations [--schema NAME]\n`);
      return 2;
    }
  }
  try {
    validateIdentifier('schema', schema);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  process.stdout.write(migrationScript(schemaNames(schema)));
  return 0;
}

process.exitCode = main(process.argv.slice(2));
