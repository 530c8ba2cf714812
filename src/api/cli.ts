/**
 * `hardened-ws publish <channel> <json>` and `hardened-ws disconnect <user>`: the server API from a
 * script, through the typed client. The API's URL and key come from --api-url / --api-key or
 * API_URL / API_KEY (the server's own variable: the first key when it lists several). The answer is
 * printed as JSON; a failure is one line on stderr and exit 1; a usage error one line and exit 2.
 */
import { createServerApi, ServerApiError } from './client.ts';

/** What the command needs from the process (the server's Platform has it). */
export interface CommandIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  writeStdout(text: string): void;
  writeStderr(text: string): void;
  exit(code: number): never;
}

type Command = 'publish' | 'disconnect';
export const isApiCommand = (word: string | undefined): word is Command => word === 'publish' || word === 'disconnect';

const DEFAULT_URL = 'http://127.0.0.1:8080';

const USAGE = `Usage:
  hardened-ws publish <channel> <json> [--idempotency-key <key>]
  hardened-ws disconnect <user> [--session <sid> | --connection <id>] [--reconnect] [--code <4000-4999>]

Common options (or their environment variables):
  --api-url <url>   API_URL   the server (or its --api-port listener); default ${DEFAULT_URL}
  --api-key <key>   API_KEY   one of the server's --api-key values (the first, if the variable lists several)

Prints the answer as JSON. Exit status 0 on success, 1 when the call failed, 2 for a usage error.
`;

/** Options each command takes: name → whether it takes a value. */
const OPTIONS: Record<Command, Record<string, boolean>> = {
  publish: { 'api-url': true, 'api-key': true, 'idempotency-key': true },
  disconnect: { 'api-url': true, 'api-key': true, session: true, connection: true, reconnect: false, code: true },
};
const POSITIONALS: Record<Command, number> = { publish: 2, disconnect: 1 };

class UsageError extends Error {}

export async function runApiCommand(io: CommandIo, argv: readonly string[]): Promise<never> {
  const command = argv[0] as Command;
  if (argv.includes('--help') || argv.includes('-h')) {
    io.writeStdout(USAGE);
    return io.exit(0);
  }
  let parsed: { positionals: string[]; values: Map<string, string> };
  let url: string;
  let key: string;
  try {
    parsed = parse(command, argv.slice(1));
    url = parsed.values.get('api-url') ?? (io.env.API_URL || DEFAULT_URL);
    if (!/^https?:\/\/[^\s]+$/.test(url)) throw new UsageError('--api-url must be an http:// or https:// URL');
    const given = parsed.values.get('api-key') ?? io.env.API_KEY?.split(',')[0]?.trim();
    if (!given) throw new UsageError('no API key: set --api-key or API_KEY');
    key = given;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.writeStderr(`hardened-ws ${command}: ${error.message} (see --help)\n`);
    return io.exit(2);
  }
  const api = createServerApi({ url, key });
  try {
    const answer = command === 'publish' ? await publish(api, parsed) : await disconnect(api, parsed);
    io.writeStdout(`${JSON.stringify(answer)}\n`);
    return io.exit(0);
  } catch (error) {
    if (error instanceof UsageError) {
      io.writeStderr(`hardened-ws ${command}: ${error.message} (see --help)\n`);
      return io.exit(2);
    }
    const message =
      error instanceof ServerApiError
        ? `${error.status === 0 ? '' : `${error.status} `}${error.code}: ${error.message}`
        : error instanceof Error
          ? error.message
          : String(error);
    io.writeStderr(`hardened-ws ${command}: ${oneLine(message)}\n`);
    return io.exit(1);
  }
}

async function publish(
  api: ReturnType<typeof createServerApi>,
  { positionals, values }: { positionals: string[]; values: Map<string, string> },
) {
  const [channel, json] = positionals as [string, string];
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    throw new UsageError('<json> is not JSON (a string is written "\\"text\\"")');
  }
  const idempotencyKey = values.get('idempotency-key');
  return api.publish(channel, data, idempotencyKey === undefined ? {} : { idempotencyKey });
}

async function disconnect(
  api: ReturnType<typeof createServerApi>,
  { positionals, values }: { positionals: string[]; values: Map<string, string> },
) {
  const code = values.get('code');
  if (code !== undefined && !/^\d{4}$/.test(code)) throw new UsageError('--code must be a close code in 4000-4999');
  const session = values.get('session');
  const connection = values.get('connection');
  return api.disconnect(positionals[0]!, {
    ...(session === undefined ? {} : { session }),
    ...(connection === undefined ? {} : { connection }),
    ...(values.has('reconnect') ? { reconnect: true } : {}),
    ...(code === undefined ? {} : { code: Number(code) }),
  });
}

/** Strict: every token is a known option, its value, or one of the expected positionals. */
function parse(command: Command, args: readonly string[]): { positionals: string[]; values: Map<string, string> } {
  const known = OPTIONS[command];
  const positionals: string[] = [];
  const values = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const token = args[i]!;
    if (!token.startsWith('--')) {
      positionals.push(token);
      continue;
    }
    const eq = token.indexOf('=');
    const name = token.slice(2, eq === -1 ? undefined : eq);
    if (!Object.hasOwn(known, name)) throw new UsageError(`unknown option "--${JSON.stringify(name.slice(0, 40)).slice(1, -1)}"`);
    if (!known[name]) {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      values.set(name, '');
      continue;
    }
    const value = eq === -1 ? args[++i] : token.slice(eq + 1);
    if (value === undefined || value === '') throw new UsageError(`--${name} requires a value`);
    values.set(name, value);
  }
  const expected = POSITIONALS[command];
  if (positionals.length !== expected) throw new UsageError(command === 'publish' ? 'expected <channel> <json>' : 'expected <user>');
  return { positionals, values };
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 300);
