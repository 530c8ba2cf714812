/** Removes every secret the run has seen (tickets, passwords, cookies, header values) from a report line. */
export function scrub(line: string, secrets: ReadonlySet<string>): string {
  let out = line;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join('[redacted]');
  return out;
}
