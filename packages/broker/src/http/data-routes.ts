import {
  CommitOffsetRequest,
  ConsumeRequest,
  ConsumeResponse,
  FailureSchema,
  FetchQuery,
  FetchResponse,
  MyQueueError,
  Offset,
  PartitionParams,
  PartitionStatus,
  ProduceRequest,
  ProduceResponse,
  SizeQuery,
  SizeResponse,
  Success,
  type StoredRecord,
} from '@myqueue/protocol';
import { Type } from 'typebox';
import { encodeAdvance, encodeCommit, encodeProduce } from '../partition/commands.js';
import { checkSequence } from '../partition/producer-window.js';
import type { ApplyResult, PartitionStateMachine } from '../partition/state-machine.js';
import type { PartitionReplica } from '../raft-host/partition-replica.js';
import type { BrokerApp, HttpAppOptions } from './app.js';
import { abortOnClose } from './abort-on-close.js';
import { KeyedMutex } from './keyed-mutex.js';

const P = '/v1/partitions/:topic/:partition';
const errors = {
  400: FailureSchema,
  404: FailureSchema,
  409: FailureSchema,
  416: FailureSchema,
  421: FailureSchema,
  503: FailureSchema,
  504: FailureSchema,
};
/** Added to the contract: what a commit-offset call answers. */
export const CommitOffsetResponse = Type.Object({ status: Success, position: Offset });
const DEFAULT_FETCH_MAX_MESSAGES = 1000;
const DEFAULT_FETCH_MAX_BYTES = 1 << 20;
const DEFAULT_CONSUME_MAX_MESSAGES = 1;

/** Produce, fetch, consume-next, commit offset, size and status (docs/api.md). */
export function dataRoutes(app: BrokerApp, o: HttpAppOptions): void {
  const consumers = new KeyedMutex();
  const replica = (p: { topic: string; partition: number }): PartitionReplica => o.host.replica(p.topic, p.partition);

  app.post(
    `${P}/produce`,
    {
      schema: {
        tags: ['data'],
        summary: 'Append a batch (one Raft entry)',
        params: PartitionParams,
        body: ProduceRequest,
        response: { 200: ProduceResponse, 413: FailureSchema, ...errors },
      },
    },
    async (req) => {
      const started = performance.now();
      const r = replica(req.params);
      r.requireLeader();
      const { records, producerId = 0, sequence = 0, acks = 'all' } = req.body;
      const timeoutMs = req.body.timeoutMs ?? o.produceTimeoutMs;
      if (producerId > 0) {
        // A retry of a batch already committed is answered from the replicated window, without a new entry.
        const check = checkSequence(r.sm.producerWindow(producerId), sequence, records.length);
        if (check.kind === 'duplicate')
          return { status: 'success' as const, baseOffset: check.baseOffset, count: records.length, duplicate: true };
        // A batch that overtook its predecessor on another connection waits for it to be proposed first
        // (bounded; the state machine still decides). Half the request's timeout at most.
        const parked = r.gate.admit(producerId, sequence, Math.min(o.sequenceGateMs, Math.floor(timeoutMs / 2)));
        if (parked) o.metrics.gateParked.inc({ outcome: await parked });
      }
      const data = encodeProduce({
        timestamp: Date.now(),
        producerId,
        sequence,
        count: records.length,
        records: Buffer.from(JSON.stringify(records)),
      });
      const pending = r.propose(data, {
        timeoutMs: Math.max(1, Math.round(timeoutMs - (performance.now() - started))),
        acks,
        produceCount: records.length,
        idempotent: producerId > 0,
      });
      if (producerId > 0) r.gate.proposed(producerId, sequence, records.length);
      const result = await pending;
      const answer = expectResult(result, 'produce');
      o.metrics.produceLatency.observe({ acks }, (performance.now() - started) / 1000);
      if (!answer.duplicate) o.metrics.producedRecords.inc(answer.count);
      return {
        status: 'success' as const,
        baseOffset: answer.baseOffset,
        count: answer.count,
        duplicate: answer.duplicate,
      };
    },
  );

  app.get(
    `${P}/fetch`,
    {
      schema: {
        tags: ['data'],
        summary: 'Read committed records from an offset (long poll)',
        params: PartitionParams,
        querystring: FetchQuery,
        response: { 200: FetchResponse, ...errors },
      },
    },
    async (req, reply) => {
      const r = replica(req.params);
      r.requireLeader();
      const {
        offset,
        maxMessages = DEFAULT_FETCH_MAX_MESSAGES,
        maxBytes = DEFAULT_FETCH_MAX_BYTES,
        maxWaitMs = 0,
      } = req.query;
      if (offset > r.sm.nextOffset || offset < r.sm.logStartOffset) {
        throw new MyQueueError(
          'MQ_ERR_OFFSET_OUT_OF_RANGE',
          `offset ${offset} is outside [${r.sm.logStartOffset}, ${r.sm.nextOffset}]`,
          {
            details: { logStartOffset: r.sm.logStartOffset, highWatermark: r.sm.nextOffset },
          },
        );
      }
      if (offset === r.sm.nextOffset && maxWaitMs > 0)
        await r.sm.waitForOffset(offset, maxWaitMs, abortOnClose(reply.raw));
      const answer = fetchAnswer(r.sm, offset, maxMessages, maxBytes);
      // The answer holds exactly FetchResponse's fields, in its order, with the right types: native
      // JSON.stringify writes the bytes the schema serializer would, several times faster on thousands of
      // records (http.test.ts compares the two byte for byte). Failures keep the schema serializer.
      reply.type('application/json; charset=utf-8').serializer(JSON.stringify);
      return answer;
    },
  );

  app.post(
    `${P}/consume`,
    {
      schema: {
        tags: ['data'],
        summary: "Read at a consumer's position and advance it through Raft",
        params: PartitionParams,
        body: ConsumeRequest,
        response: { 200: ConsumeResponse, ...errors },
      },
    },
    async (req, reply) => {
      const r = replica(req.params);
      r.requireLeader();
      const { consumerId, maxMessages = DEFAULT_CONSUME_MAX_MESSAGES, maxWaitMs = 0 } = req.body;
      const signal = abortOnClose(reply.raw);
      // One consume at a time per consumer on this leader; the advance entry is a compare-and-set anyway.
      return consumers.run(`${r.group}\u0000${consumerId}`, async () => {
        for (let attempt = 0; ; attempt++) {
          r.requireLeader();
          const from = r.sm.position(consumerId);
          if (from >= r.sm.nextOffset && maxWaitMs > 0 && attempt === 0)
            await r.sm.waitForOffset(from, maxWaitMs, signal);
          const { records, nextOffset } = r.sm.read(from, maxMessages, DEFAULT_FETCH_MAX_BYTES);
          if (records.length === 0)
            return { status: 'success' as const, records: [] as StoredRecord[], position: from };
          const result = expectResult(
            await r.propose(encodeAdvance(consumerId, from, nextOffset), { timeoutMs: o.produceTimeoutMs }),
            'position',
          );
          if (result.advanced) return { status: 'success' as const, records, position: result.position };
          if (attempt >= 2)
            throw new MyQueueError('MQ_ERR_UNAVAILABLE', 'consumer position kept moving under this consume; retry');
        }
      });
    },
  );

  app.post(
    `${P}/offsets`,
    {
      schema: {
        tags: ['data'],
        summary: "Set a consumer's position",
        params: PartitionParams,
        body: CommitOffsetRequest,
        response: { 200: CommitOffsetResponse, ...errors },
      },
    },
    async (req) => {
      const r = replica(req.params);
      r.requireLeader();
      const { consumerId, offset } = req.body;
      if (offset > r.sm.nextOffset)
        throw new MyQueueError(
          'MQ_ERR_OFFSET_OUT_OF_RANGE',
          `offset ${offset} is beyond the high watermark ${r.sm.nextOffset}`,
        );
      const result = expectResult(
        await r.propose(encodeCommit(consumerId, offset), { timeoutMs: o.produceTimeoutMs }),
        'position',
      );
      return { status: 'success' as const, position: result.position };
    },
  );

  app.get(
    `${P}/size`,
    {
      schema: {
        tags: ['data'],
        summary: 'Records a consumer has not consumed yet',
        params: PartitionParams,
        querystring: SizeQuery,
        response: { 200: SizeResponse, ...errors },
      },
    },
    (req) => {
      const r = replica(req.params);
      r.requireLeader();
      const position = r.sm.position(req.query.consumerId);
      return {
        status: 'success' as const,
        size: Math.max(0, r.sm.nextOffset - position),
        position,
        highWatermark: r.sm.nextOffset,
      };
    },
  );

  app.get(
    `${P}/status`,
    {
      schema: {
        tags: ['data'],
        summary: "This replica's view of the partition (any replica answers)",
        params: PartitionParams,
        response: { 200: PartitionStatus, ...errors },
      },
    },
    (req) => {
      return { status: 'success' as const, ...replica(req.params).status() };
    },
  );
}

/** A fetch answer: records from `offset` plus where the partition stands. */
export function fetchAnswer(sm: PartitionStateMachine, offset: number, maxMessages: number, maxBytes: number) {
  const { records, nextOffset } = sm.read(offset, maxMessages, maxBytes);
  return {
    status: 'success' as const,
    records,
    highWatermark: sm.nextOffset,
    nextOffset,
    logStartOffset: sm.logStartOffset,
  };
}

function expectResult<K extends ApplyResult['kind']>(r: ApplyResult, kind: K): Extract<ApplyResult, { kind: K }> {
  if (r.kind === 'rejected') throw new MyQueueError(r.code, r.message);
  if (r.kind !== kind) throw new MyQueueError('MQ_ERR_INTERNAL', `unexpected apply result ${r.kind}`);
  return r as Extract<ApplyResult, { kind: K }>;
}
