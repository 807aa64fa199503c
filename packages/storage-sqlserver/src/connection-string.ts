import sql from 'mssql';
import { InvalidOptionError } from '@oddjob/core';

/**
 * mssql 12 understands ADO.NET-style strings (`Server=host,1433;Database=db;User Id=u;Password=p;
 * Encrypt=true;TrustServerCertificate=true`) but silently turns a URL such as `mssql://...` into an
 * empty config (checked on this machine). A URL is what most people put in an environment variable,
 * so URLs are read here, strictly: every query key must be one we know, so a typo is an error, not
 * a setting quietly ignored.
 *
 *   mssql://user:password@host:1433/database?encrypt=true&trustServerCertificate=true
 *
 * (`sqlserver://` is accepted as a synonym; user and password are percent-decoded; a named instance
 * is `?instanceName=SQLEXPRESS`.)
 */
const URL_BOOLEAN_KEYS: Record<string, 'encrypt' | 'trustServerCertificate'> = {
  encrypt: 'encrypt',
  trustservercertificate: 'trustServerCertificate',
};
const URL_NUMBER_KEYS: Record<string, 'connectionTimeout' | 'requestTimeout'> = {
  connecttimeout: 'connectionTimeout',
  connectiontimeout: 'connectionTimeout',
  requesttimeout: 'requestTimeout',
};

function bool(key: string, value: string): boolean {
  if (/^(true|yes|1)$/i.test(value)) return true;
  if (/^(false|no|0)$/i.test(value)) return false;
  throw new InvalidOptionError('connection', `"${key}=${value}" must be true or false`);
}

export function parseConnectionString(text: string): sql.config {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new InvalidOptionError('connection', 'an empty connection string');
  }
  if (/^(mssql|sqlserver):\/\//i.test(text)) return parseUrl(text);
  let config: sql.config;
  try {
    config = sql.ConnectionPool.parseConnectionString(text);
  } catch (err) {
    throw new InvalidOptionError('connection', `mssql cannot read the connection string: ${(err as Error).message}`);
  }
  if (!config.server) {
    throw new InvalidOptionError(
      'connection',
      'the connection string names no server: use "mssql://user:pass@host:1433/db?encrypt=true" or "Server=host,1433;Database=db;User Id=...;Password=..."',
    );
  }
  return config;
}

function parseUrl(text: string): sql.config {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidOptionError(
      'connection',
      'not a valid URL (expected mssql://user:pass@host:1433/db?encrypt=true)',
    );
  }
  if (!url.hostname) throw new InvalidOptionError('connection', 'the URL names no host');
  const options: NonNullable<sql.config['options']> = {};
  const config: sql.config = { server: url.hostname.replace(/^\[(.*)\]$/, '$1'), options };
  if (url.port) config.port = Number(url.port);
  if (url.username) config.user = decodeURIComponent(url.username);
  if (url.password) config.password = decodeURIComponent(url.password);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database.includes('/')) throw new InvalidOptionError('connection', `"${database}" is not a database name`);
  if (database) config.database = database;
  for (const [rawKey, value] of url.searchParams) {
    const key = rawKey.toLowerCase();
    if (key in URL_BOOLEAN_KEYS) options[URL_BOOLEAN_KEYS[key]] = bool(rawKey, value);
    else if (key in URL_NUMBER_KEYS) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0)
        throw new InvalidOptionError('connection', `"${rawKey}=${value}" must be a whole number of ms`);
      config[URL_NUMBER_KEYS[key]] = n;
    } else if (key === 'instancename') options.instanceName = value;
    else if (key === 'appname') options.appName = value;
    else {
      throw new InvalidOptionError(
        'connection',
        `unknown URL parameter "${rawKey}" (known: encrypt, trustServerCertificate, instanceName, appName, connectTimeout, requestTimeout)`,
      );
    }
  }
  return config;
}

/** The connection string with its password masked, for error messages and logs. */
export function redactConnectionString(text: string): string {
  return text.replace(/(:\/\/[^:/@]*:)[^@]*@/, '$1***@').replace(/(password|pwd)\s*=\s*[^;]*/gi, '$1=***');
}
