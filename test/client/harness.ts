/** Builds an SDK client on the fakes and records everything a leak check needs. */
import { connect, type Client, type ClientState, type ConnectOptions } from '../../src/client/index.ts';
import { captureLogger, FakeClock, FakeSocket, settle, ticketSource } from './fakes.ts';

/** Everything any client in this process said or threw: checked for tickets by the leak tests. */
export const observed = { tickets: [] as string[], texts: [] as string[] };

/** Records an error (message, name, code, JSON) for the leak check and returns it. */
export function record(error: unknown): unknown {
  observed.texts.push(String(error), JSON.stringify(error), error instanceof Error ? `${error.message} ${error.stack ?? ''}` : '');
  return error;
}

export interface Harness {
  readonly client: Client;
  readonly clock: FakeClock;
  readonly tickets: ReturnType<typeof ticketSource>;
  readonly states: ClientState[];
  readonly errors: Error[];
  readonly logs: string[];
  /** Lets getTicket resolve, opens the newest socket and answers auth.ok. */
  authenticate(exp?: number): Promise<FakeSocket>;
}

export function harness(overrides: Partial<ConnectOptions> = {}): Harness {
  FakeSocket.reset();
  const clock = new FakeClock();
  const tickets = ticketSource();
  const log = captureLogger();
  const states: ClientState[] = ['connecting'];
  const errors: Error[] = [];
  const client = connect({
    url: 'ws://gateway.test/ws',
    getTicket: tickets.getTicket,
    WebSocket: FakeSocket,
    clock,
    random: () => 0.5,
    logger: log.logger,
    onStateChange: (state) => states.push(state),
    ...overrides,
  });
  client.on('error', ({ error }) => errors.push(record(error) as Error));
  // Live arrays: they grow as attempts run and are read by the leak check at the end.
  registry.push({ issued: tickets.issued, texts: log.lines });
  return {
    client,
    clock,
    tickets,
    states,
    errors,
    logs: log.lines,
    async authenticate(exp = Math.floor(clock.now() / 1000) + 3600) {
      await settle();
      const socket = FakeSocket.last;
      socket.open();
      socket.authOk('demo', exp);
      await settle();
      return socket;
    },
  };
}

const registry: { issued: string[]; texts: string[] }[] = [];

/** Every ticket handed out so far, and every log line and error text seen so far. */
export function leakCheckMaterial(): { tickets: string[]; texts: string[] } {
  return {
    tickets: [...observed.tickets, ...registry.flatMap((r) => r.issued)],
    texts: [...observed.texts, ...registry.flatMap((r) => r.texts)],
  };
}

/** Awaits a promise expected to reject; records the error for the leak check and returns it. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; serverCode?: string }> {
  try {
    await promise;
  } catch (error) {
    return record(error) as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

/** Calls fn expecting it to throw; records the error for the leak check and returns it. */
export function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (error) {
    return record(error) as Error & { code?: string };
  }
  throw new Error('expected a throw');
}
