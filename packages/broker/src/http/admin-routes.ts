import {
  BrokerHealth,
  CreateReplicaRequest,
  FailureSchema,
  FetchQuery,
  FetchResponse,
  MembershipRequest,
  MyQueueError,
  OkResponse,
  PartitionParams,
  Success,
  TransferLeadershipRequest,
} from '@myqueue/protocol';
import { timingSafeEqual } from 'node:crypto';
import { Type } from 'typebox';
import { confChangeFor } from '../raft-host/partition-replica.js';
import type { BrokerApp, HttpAppOptions } from './app.js';

const A = '/v1/admin/partitions/:topic/:partition';
const errors = { 400: FailureSchema, 401: FailureSchema, 404: FailureSchema, 421: FailureSchema, 503: FailureSchema, 504: FailureSchema };
/** Added to the contract: whether a create call made a new replica (false: it existed; addresses refreshed). */
export const CreateReplicaResponse = Type.Object({ status: Success, created: Type.Boolean() });
const ADMIN_TIMEOUT_MS = 10_000;

/**
 * Admin routes the manager calls (cluster token as `authorization: Bearer <token>`): create/delete a
 * replica, change membership, transfer leadership, health, and a debug read of any replica.
 */
export function adminRoutes(app: BrokerApp, o: HttpAppOptions): void {
  const expected = Buffer.from(`Bearer ${o.clusterToken}`);
  const security = [{ clusterToken: [] }];
  app.addHook('onRequest', (req, _reply, done) => {
    if (!req.url.startsWith('/v1/admin/') && !req.url.startsWith('/v1/health')) return done();
    const got = Buffer.from(req.headers.authorization ?? '');
    if (got.byteLength === expected.byteLength && timingSafeEqual(got, expected)) return done();
    done(new MyQueueError('MQ_ERR_UNAUTHORIZED', 'admin routes need authorization: Bearer <cluster token>'));
  });

  app.put(A, { schema: { tags: ['admin'], security, summary: 'Create this broker\'s replica of a partition', params: PartitionParams, body: CreateReplicaRequest, response: { 200: CreateReplicaResponse, ...errors } } }, async (req) => {
    const { created } = o.host.createReplica(req.params.topic, req.params.partition, req.body.replicas, req.body.join ?? false);
    return { status: 'success' as const, created };
  });

  app.delete(A, { schema: { tags: ['admin'], security, summary: "Delete this broker's replica and its data", params: PartitionParams, response: { 200: OkResponse, ...errors } } }, async (req) => {
    o.host.deleteReplica(req.params.topic, req.params.partition);
    return { status: 'success' as const };
  });

  app.post(`${A}/membership`, { schema: { tags: ['admin'], security, summary: 'Add a learner, promote it to voter, or remove a member (leader only)', params: PartitionParams, body: MembershipRequest, response: { 200: OkResponse, ...errors } } }, async (req) => {
    const r = o.host.replica(req.params.topic, req.params.partition);
    r.requireLeader();
    o.host.learnAddresses([req.body.replica]);
    await r.changeMembership(confChangeFor(req.body.action, req.body.replica.id), ADMIN_TIMEOUT_MS);
    return { status: 'success' as const };
  });

  app.post(`${A}/transfer-leadership`, { schema: { tags: ['admin'], security, summary: 'Hand leadership to another voter (leader only)', params: PartitionParams, body: TransferLeadershipRequest, response: { 200: OkResponse, ...errors } } }, async (req) => {
    await o.host.replica(req.params.topic, req.params.partition).transferLeadership(req.body.to, ADMIN_TIMEOUT_MS);
    return { status: 'success' as const };
  });

  app.get(`${A}/records`, { schema: { tags: ['admin'], security, summary: "Debug: read this replica's applied records (any role)", params: PartitionParams, querystring: FetchQuery, response: { 200: FetchResponse, ...errors } } }, async (req) => {
    const r = o.host.replica(req.params.topic, req.params.partition);
    const { records, nextOffset } = r.sm.read(req.query.offset, req.query.maxMessages ?? 1000, req.query.maxBytes ?? 1 << 20);
    return { status: 'success' as const, records, highWatermark: r.sm.nextOffset, nextOffset, logStartOffset: r.sm.logStartOffset };
  });

  app.get('/v1/health', { schema: { tags: ['admin'], security, summary: 'Hosted partitions with role, leader and term', response: { 200: BrokerHealth, 401: FailureSchema } } }, async () => {
    return {
      status: 'success' as const,
      broker: o.host.brokerId,
      uptimeMs: Date.now() - o.host.startedAt,
      partitions: o.host.replicas().map((r) => r.health()),
    };
  });
}
