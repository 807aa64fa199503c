// A bounded wait, shared by the shell's shutdown and a queue's stop. Its own file because both
// use it and neither owns it.

/** True if `p` settled within `ms`; the timer is always cleared, so nothing is left running. */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
