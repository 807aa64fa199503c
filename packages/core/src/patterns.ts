/**
 * The name rules every store and the executor share. One copy here, so a name accepted by one store
 * is accepted by all of them (the SQL columns are sized to these lengths).
 */

/** Queue names: 1 to 100 characters of letters, digits and `_ . : -`. */
export const QUEUE_PATTERN = /^[A-Za-z0-9_.:-]{1,100}$/;

/** Target (job class) and schedule names: 1 to 200 characters, `/` allowed for namespacing. */
export const NAME_PATTERN = /^[A-Za-z0-9_.:\-/]{1,200}$/;

/** Method names: a JavaScript identifier of at most 200 characters. */
export const METHOD_PATTERN = /^[A-Za-z_$][A-Za-z0-9_$]{0,199}$/;

/**
 * Tenant names (one store of several, in the executor, the dashboard and the CLI): 1 to 100
 * characters of letters, digits and `_ . -`. No `:` or `/`, so a name can lead a CLI value
 * (`NAME=URL`) and a URL path segment (`/api/t/NAME/`) as it is.
 */
export const TENANT_PATTERN = /^[A-Za-z0-9_.-]{1,100}$/;
