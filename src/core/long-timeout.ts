/** setTimeout caps delays at 2^31-1 ms (~24.8 days); sessions may be longer, so re-arm in steps. */
const MAX_DELAY = 2 ** 31 - 1;

export interface LongTimeout {
  clear(): void;
}

export function setLongTimeout(callback: () => void, delayMs: number): LongTimeout {
  let timer: ReturnType<typeof setTimeout>;
  const arm = (remaining: number) => {
    timer = setTimeout(() => (remaining > MAX_DELAY ? arm(remaining - MAX_DELAY) : callback()), Math.max(0, Math.min(remaining, MAX_DELAY)));
  };
  arm(delayMs);
  return { clear: () => clearTimeout(timer) };
}
