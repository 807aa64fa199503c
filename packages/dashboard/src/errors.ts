/** Why an HTTP call failed, with the status it maps to; the message is shown to the caller as is. */
export class DashboardHttpError extends Error {
  override name = 'DashboardHttpError';
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The server was asked to listen where other machines can reach it, with nobody required to log in. */
export class InsecureListenError extends Error {
  override name = 'InsecureListenError';
  constructor(host: string) {
    super(
      `refusing to listen on ${host} without auth: only loopback addresses (127.0.0.1, ::1, localhost) may be served without a bearer token or basic-auth user; configure options.auth`,
    );
  }
}

/** Raised for a feature the given store cannot provide (answered as 501). */
export function notAvailable(what: string, issue: string): DashboardHttpError {
  return new DashboardHttpError(501, `${what} is not available on this store (${issue})`);
}
