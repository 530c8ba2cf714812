/** The library's defaults are the server's: each equals what the server command starts with. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DEFAULT_MAX_CHANNELS } from '../../src/channels/channel-handlers.ts';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { defaultLimits } from '../../src/core/limits.ts';
import { admissionDefaults, heartbeatDefaults } from '../../src/library/defaults.ts';

const server = (loadConfig([], {}) as { config: Config }).config;

it('admission: origins, caps and upgrade rate', () => {
  assert.deepEqual(
    { ...admissionDefaults },
    {
      allowedOrigins: server.allowedOrigins,
      allowMissingOrigin: server.allowMissingOrigin,
      maxConnections: server.maxConnections,
      maxConnectionsPerIp: server.maxConnectionsPerIp,
      upgradeRate: server.upgradeRate,
    },
  );
});

it('heartbeats, per-socket limits and channels', () => {
  assert.deepEqual({ ...heartbeatDefaults }, { intervalMs: server.heartbeatInterval, timeoutMs: server.heartbeatTimeout });
  const {
    authDeadlineMs,
    verifyTimeoutMs,
    maxAuthFrameBytes,
    maxMessageBytes,
    messageRate,
    maxBufferedBytes,
    maxConnectionsPerUser,
    sessionWarningMs,
  } = defaultLimits;
  assert.deepEqual(
    {
      authDeadlineMs,
      verifyTimeoutMs,
      maxAuthFrameBytes,
      maxMessageBytes,
      messageRate: { ...messageRate },
      maxBufferedBytes,
      maxConnectionsPerUser,
      sessionWarningMs,
    },
    {
      authDeadlineMs: server.authTimeout,
      verifyTimeoutMs: server.verifyTimeout,
      maxAuthFrameBytes: server.maxAuthFrame,
      maxMessageBytes: server.maxMessage,
      messageRate: server.messageRate,
      maxBufferedBytes: server.maxBuffered,
      maxConnectionsPerUser: server.maxConnectionsPerUser,
      sessionWarningMs: server.sessionWarning,
    },
  );
  assert.equal(DEFAULT_MAX_CHANNELS, server.maxChannels);
});
