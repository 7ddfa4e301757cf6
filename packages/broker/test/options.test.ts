import { describe, expect, it } from 'vitest';
import { ConfigError, optionsFromEnv } from '../src/config/env.js';
import { withDefaults } from '../src/config/options.js';

const required = { id: 'b1', httpPort: 0, peerPort: 0, dataDir: '/tmp/x', clusterToken: 't' };

describe('broker options', () => {
  it('heartbeats every 2 ticks by default, and every tick when elections come after 2 ticks', () => {
    expect(withDefaults(required)).toMatchObject({ tickMs: 50, electionTicks: 10, heartbeatTicks: 2 });
    expect(withDefaults({ ...required, electionTicks: 2 }).heartbeatTicks).toBe(1);
  });

  it('refuses a heartbeat interval that is not below the election timeout', () => {
    expect(() => withDefaults({ ...required, electionTicks: 5, heartbeatTicks: 5 })).toThrow(ConfigError);
    const env = {
      BROKER_ID: 'b1',
      HTTP_PORT: '0',
      PEER_PORT: '0',
      DATA_DIR: '/tmp/x',
      CLUSTER_TOKEN: 't',
      RAFT_HEARTBEAT_TICKS: '3',
      RAFT_ELECTION_TICKS: '20',
    };
    expect(withDefaults(optionsFromEnv(env))).toMatchObject({ heartbeatTicks: 3, electionTicks: 20 });
    expect(() => withDefaults(optionsFromEnv({ ...env, RAFT_HEARTBEAT_TICKS: '20' }))).toThrow(/RAFT_HEARTBEAT_TICKS/);
  });
});
