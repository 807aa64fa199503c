import { createHash, timingSafeEqual } from 'node:crypto';

/** Who made a request, as the action log names them. */
export interface DashboardUser {
  name: string;
  /** Can read everything; every state-changing route answers 403. */
  readOnly: boolean;
}

export interface AuthOptions {
  /** `Authorization: Bearer <token>`; `user` is the name the action log records. */
  bearer?: ReadonlyArray<{ token: string; user: string; readOnly?: boolean }>;
  /** `Authorization: Basic base64(username:password)`. */
  basic?: ReadonlyArray<{ username: string; password: string; readOnly?: boolean }>;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
/** Constant-time on the digests, so the comparison does not leak how much of a secret matched. */
const same = (a: Buffer, b: string) => timingSafeEqual(a, digest(b));

export function hasAuth(auth: AuthOptions | undefined): boolean {
  return auth !== undefined && ((auth.bearer?.length ?? 0) > 0 || (auth.basic?.length ?? 0) > 0);
}

export function checkAuthOptions(auth: AuthOptions | undefined): void {
  for (const b of auth?.bearer ?? []) {
    if (typeof b.token !== 'string' || b.token.length < 16)
      throw new TypeError(`auth.bearer token of user "${b.user}" must be a string of at least 16 characters`);
    if (typeof b.user !== 'string' || b.user === '') throw new TypeError('auth.bearer entries need a user name');
  }
  for (const b of auth?.basic ?? []) {
    if (typeof b.username !== 'string' || b.username === '' || b.username.includes(':'))
      throw new TypeError('auth.basic username must be a non-empty string without ":"');
    if (typeof b.password !== 'string' || b.password.length < 8)
      throw new TypeError(`auth.basic password of "${b.username}" must be at least 8 characters`);
  }
}

/** The user an Authorization header proves, or null. */
export function authenticate(auth: AuthOptions, header: string | undefined): DashboardUser | null {
  if (header === undefined) return null;
  const space = header.indexOf(' ');
  if (space < 0) return null;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer') {
    const d = digest(value);
    for (const b of auth.bearer ?? []) if (same(d, b.token)) return { name: b.user, readOnly: b.readOnly === true };
    return null;
  }
  if (scheme === 'basic') {
    const text = Buffer.from(value, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) return null;
    const user = text.slice(0, colon);
    const d = digest(text.slice(colon + 1));
    for (const b of auth.basic ?? []) {
      if (b.username === user && same(d, b.password)) return { name: b.username, readOnly: b.readOnly === true };
    }
  }
  return null;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}
