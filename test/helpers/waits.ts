// How tests wait without betting on a duration: promises awaited later, conditions that
// come true, starts that must fail. Limits here only bound a failing test.

/** A promise that a test awaits only later, and whether it has settled yet. */
export type Pending<T> = Promise<T> & { settled(): boolean };

/**
 * Follows a promise that the test awaits only after other steps. It is marked handled at
 * once: AVA ends a test at its first failed assertion, and a promise rejecting after that
 * would otherwise be an unhandled rejection that fails the whole file. `settled()` checks
 * order without a clock: "the add was answered while the lease still waited".
 */
export function pending<T>(promise: Promise<T>): Pending<T> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return Object.assign(promise, { settled: () => settled });
}

/**
 * Checks `done` every 10 ms until it holds or `timeoutMs` has passed, and says whether it
 * held. The limit only bounds a failing test: it is generous, and no measure of speed.
 */
export async function eventually(done: () => boolean, timeoutMs = 20_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

/**
 * A start that the test expects to fail. What starts after all is stopped with `stop`
 * (its timers and locks would outlive the test) and the promise rejects with one line
 * instead: a failed assertion then prints no whole log, server or socket object.
 */
export async function refused<T>(starting: Promise<T>, stop: (started: T) => unknown): Promise<never> {
  const started = await starting;
  await stop(started);
  throw new Error('it started, but the test expected the start to fail');
}
