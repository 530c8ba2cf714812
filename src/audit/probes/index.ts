/** Every probe, in the order they run (the passive ones start first and run beside the others). */
import type { Probe } from '../probe.ts';
import { authDeadline, authPreAuth, authReplay, authTicketOrigin } from './auth.ts';
import { deflateBombProbe, deflateOffered } from './deflate.ts';
import { fragmentFlood, invalidUtf8, pingFlood, reservedBits, tinyFragments } from './frames.ts';
import { handshakeHeaders, handshakeKey, handshakeTarget, handshakeUpgrade, handshakeVersion } from './handshake.ts';
import { idleTimeout } from './idle.ts';
import { messageRate, messageSize } from './messages.ts';
import { originForeign, originLookalike, originMissing, originNull } from './origin.ts';
import { slowReader } from './slow-reader.ts';
import { tlsCertificate, tlsCiphers, tlsHsts, tlsVersions, transportTls } from './tls.ts';

export const probes: readonly Probe[] = [
  authDeadline,
  idleTimeout,
  transportTls,
  tlsCertificate,
  tlsVersions,
  tlsCiphers,
  tlsHsts,
  originForeign,
  originNull,
  originLookalike,
  originMissing,
  handshakeVersion,
  handshakeKey,
  handshakeUpgrade,
  handshakeTarget,
  handshakeHeaders,
  authPreAuth,
  authReplay,
  authTicketOrigin,
  messageSize,
  messageRate,
  fragmentFlood,
  tinyFragments,
  pingFlood,
  invalidUtf8,
  reservedBits,
  deflateOffered,
  deflateBombProbe,
  slowReader,
];
