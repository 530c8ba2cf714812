/**
 * The two asynchronous checks between a ticket and auth.ok, each bounded and never throwing:
 * whatever goes wrong, the socket stays out (fail closed).
 */
import type { Identity, Verifier, VerifyRequest, VerifyResult } from '../auth/verifier.ts';
import { CloseCodes, type CloseCodeInfo } from '../protocol/close-codes.ts';
import type { Admit, Connection } from './connection.ts';

export async function admitSafely(admit: Admit, identity: Identity, connection: Connection): Promise<CloseCodeInfo | null> {
  try {
    return await admit(identity, connection);
  } catch {
    return CloseCodes.tryAgainLater; // An admission store that fails must not let the socket in.
  }
}

/** Any verifier, bounded in time and never throwing: every failure is `unavailable` (fail closed). */
export async function verifyWithin(verifier: Verifier, request: VerifyRequest, timeoutMs: number): Promise<VerifyResult> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<VerifyResult>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'unavailable', reason: 'timeout' }), timeoutMs);
  });
  try {
    return await Promise.race([
      // Promise.resolve().then: a verifier that throws synchronously fails closed too.
      Promise.resolve()
        .then(() => verifier.verify(request))
        .catch((): VerifyResult => ({ kind: 'unavailable', reason: 'verifier_error' })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
