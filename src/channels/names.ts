/** Channel names: printable, bounded, and never the reserved control channel (which starts with `$`). */
const CHANNEL = /^[A-Za-z0-9_\-:.@]{1,128}$/;

export function isValidChannel(name: unknown): name is string {
  return typeof name === 'string' && CHANNEL.test(name);
}

/** Instances talk to each other here (revocations); no client channel can match it. */
export const CONTROL_CHANNEL = '$hws.control';
