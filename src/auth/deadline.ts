/**
 * The one deadline helper: runs a task with an AbortSignal and settles at the deadline even when
 * the task ignores the signal. The gateway sets the deadline of a verification once; the layers
 * below (resilience, the HTTP verifier) follow the signal they are handed instead of racing a
 * timer of their own.
 */

/**
 * Resolves with `task`'s result, or with `onTimeout()` once the deadline passes: after `ms` of its
 * own (a timer), or when `outer` aborts (the caller's deadline), whichever comes first. `task` gets
 * a signal that aborts then, so work it started (a fetch) stops too. A task that throws or rejects
 * is `onError(error)`; this never rejects.
 */
export async function withDeadline<T>(
  task: (signal: AbortSignal) => Promise<T> | T,
  deadline: { readonly ms?: number; readonly outer?: AbortSignal },
  onTimeout: () => T,
  onError: (error: unknown) => T,
): Promise<T> {
  const { ms, outer } = deadline;
  // With only the caller's deadline, the caller's signal is the task's: no controller of its own
  // (a verification passes through two of these layers, once per connect).
  const controller = ms === undefined && outer !== undefined ? undefined : new AbortController();
  const signal = controller?.signal ?? (outer as AbortSignal);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let expire: (() => void) | undefined;
  const timedOut = new Promise<T>((resolve) => {
    expire = () => resolve(onTimeout());
  });
  const abort = () => {
    if (expire === undefined) return;
    const settle = expire;
    expire = undefined;
    controller?.abort();
    settle();
  };
  if (outer?.aborted) abort();
  outer?.addEventListener('abort', abort, { once: true });
  if (ms !== undefined) timer = setTimeout(abort, ms);
  try {
    // Started synchronously (callers count what is in flight); a synchronous throw is an error like a rejection.
    let attempt: Promise<T>;
    try {
      attempt = Promise.resolve(task(signal)).then(undefined, onError);
    } catch (error) {
      attempt = Promise.resolve(onError(error));
    }
    return await Promise.race([attempt, timedOut]);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', abort);
  }
}
