/**
 * Several batches of one partition in flight (maxInFlight): a scripted HTTP server plays the manager and a
 * partition leader that applies the broker's sequence rule (a producer's batch must start at the sequence
 * after its last one; a repeat of a recent batch answers its original offsets; anything else is 409
 * MQ_ERR_OUT_OF_ORDER_SEQUENCE), and lets each test hold, reorder or fail requests.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { metadataAnswer, readJson, replyJson, topicAnswer } from './scripted-server.js';
import { MyQueue } from '../src/myqueue.js';
import type { Producer } from '../src/producer.js';

interface ProduceCall {
  readonly producerId: number;
  readonly sequence: number;
  readonly values: string[];
  readonly res: ServerResponse;
}

/** A one-partition leader with the broker's idempotence rule; `onProduce` decides when each call is applied. */
class ScriptedLeader {
  readonly log: string[] = [];
  readonly refused: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  producerIds = 0;
  onProduce: (call: ProduceCall) => void = (call) => this.apply(call);
  readonly #windows = new Map<number, { sequence: number; count: number; baseOffset: number }[]>();
  #server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }

  /** Applies a produce call as the state machine would and answers it. */
  apply(call: ProduceCall): void {
    this.inFlight--;
    if (!(call.producerId > 0)) {
      // Not idempotent: stored as it comes.
      const baseOffset = this.log.push(...call.values) - call.values.length;
      return replyJson(call.res, 200, { status: 'success', baseOffset, count: call.values.length, duplicate: false });
    }
    const window = this.#windows.get(call.producerId) ?? [];
    const last = window[window.length - 1];
    const expected = last ? last.sequence + last.count : call.sequence;
    const seen = window.find((b) => b.sequence === call.sequence && b.count === call.values.length);
    if (seen)
      return replyJson(call.res, 200, {
        status: 'success',
        baseOffset: seen.baseOffset,
        count: seen.count,
        duplicate: true,
      });
    if (call.sequence !== expected) {
      this.refused.push(`${call.producerId}/${call.sequence}`);
      return replyJson(call.res, 409, {
        status: 'failure',
        code: 'MQ_ERR_OUT_OF_ORDER_SEQUENCE',
        message: `sequence ${call.sequence} skips ahead: expected ${expected}`,
      });
    }
    const baseOffset = this.log.length;
    this.log.push(...call.values);
    this.#windows.set(
      call.producerId,
      [...window, { sequence: call.sequence, count: call.values.length, baseOffset }].slice(-5),
    );
    replyJson(call.res, 200, { status: 'success', baseOffset, count: call.values.length, duplicate: false });
  }

  /** Answers a produce call with a failure that says the batch was not stored. */
  fail(call: ProduceCall, status: number, code: string): void {
    this.inFlight--;
    replyJson(call.res, status, { status: 'failure', code, message: `scripted ${code}` });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const b = await readJson(req);
    if (req.url?.startsWith('/v1/producers/register'))
      return replyJson(res, 200, { status: 'success', producerId: ++this.producerIds, topic: topicAnswer(this.url) });
    if (req.url?.startsWith('/v1/metadata'))
      return replyJson(res, 200, metadataAnswer(this.url, [topicAnswer(this.url)]));
    if (req.url === '/v1/partitions/t/0/produce') {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      const values = (b.records as { value: string }[]).map((r) => r.value);
      return this.onProduce({ producerId: Number(b.producerId), sequence: Number(b.sequence), values, res });
    }
    replyJson(res, 404, { status: 'failure', code: 'MQ_ERR_NOT_FOUND', message: req.url });
  }
}

let leader: ScriptedLeader;
let mq: MyQueue;
afterEach(async () => {
  await mq?.close().catch(() => undefined);
  await leader?.stop();
});

async function setup(options: Parameters<MyQueue['producer']>[0]): Promise<Producer> {
  leader = new ScriptedLeader();
  await leader.start();
  mq = new MyQueue({
    manager: leader.url,
    heartbeats: false,
    requestTimeoutMs: 2000,
    backoff: { initialMs: 10, maxMs: 20 },
  });
  const producer = mq.producer({ lingerMs: 0, deliveryTimeoutMs: 5000, ...options });
  await producer.connect(['t']);
  return producer;
}

const values = (from: number, n: number) => Array.from({ length: n }, (_, i) => `m${from + i}`);
/** The partition acknowledges a first batch under the id before the producer pipelines (see producer.ts). */
const warmUp = (p: Producer) => p.send({ topic: 't', messages: [{ value: 'w', partition: 0 }] });
const sendEach = (p: Producer, vs: string[]) =>
  vs.map((value) => p.send({ topic: 't', messages: [{ value, partition: 0 }] }).then(([m]) => m.offset));

describe('producer pipelining', () => {
  it('keeps up to maxInFlight batches of a partition in flight and stores them in send order', async () => {
    const producer = await setup({ batchSize: 2, maxInFlight: 5 });
    await warmUp(producer);
    const held: ProduceCall[] = [];
    // Answer nothing until five batches are in flight at once, then everything in arrival order.
    leader.onProduce = (call) => {
      held.push(call);
      if (held.length >= 5 || leader.maxInFlight >= 5) for (const c of held.splice(0)) leader.apply(c);
    };
    const offsets = await Promise.all(sendEach(producer, values(0, 14)));
    expect(leader.maxInFlight).toBe(5);
    expect(leader.log).toEqual(['w', ...values(0, 14)]);
    expect(offsets).toEqual(values(0, 14).map((_, i) => i + 1));
    expect(leader.refused).toEqual([]);
  });

  it('retries a batch that reached the leader before the one ahead of it, after that one is stored', async () => {
    const producer = await setup({ batchSize: 2, maxInFlight: 5 });
    await warmUp(producer);
    let first: ProduceCall | undefined;
    leader.onProduce = (call) => {
      // The first batch is held for 20 ms; the ones behind it are applied at once (they overtook it).
      if (call.sequence === 1 && leader.log.length === 1) {
        first = call;
        return void setTimeout(() => leader.apply(first!), 20);
      }
      leader.apply(call);
    };
    const offsets = await Promise.all(sendEach(producer, values(0, 4)));
    expect(first).toBeDefined();
    expect(leader.refused.length).toBeGreaterThan(0);
    expect(leader.refused.every((r) => r.startsWith('1/'))).toBe(true);
    expect(leader.log).toEqual(['w', ...values(0, 4)]);
    expect(offsets).toEqual([1, 2, 3, 4]);
    expect(producer.producerId).toBe(1);
  });

  it('moves the batches behind a failed one to a new producer id, in order', async () => {
    const producer = await setup({ batchSize: 2, maxInFlight: 5 });
    await warmUp(producer);
    const held: ProduceCall[] = [];
    leader.onProduce = (call) => {
      if (call.producerId !== 1) return leader.apply(call);
      held.push(call);
      if (held.length < 3) return;
      // Three batches in flight: the first is refused as too large, the others then arrive out of order.
      const [a, b, c] = held.splice(0);
      leader.fail(a, 413, 'MQ_ERR_RECORD_TOO_LARGE');
      leader.apply(c);
      leader.apply(b);
    };
    const results = await Promise.allSettled(sendEach(producer, values(0, 3)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(leader.log).toEqual(['w', 'm1', 'm2']);
    expect(leader.refused).toEqual(['1/3', '1/2']);
    expect(producer.producerId).toBe(2);
  });

  it('keeps one batch in flight when maxInFlight is 1 or the producer is not idempotent', async () => {
    for (const options of [{ maxInFlight: 1 }, { idempotent: false }]) {
      const producer = await setup({ batchSize: 2, ...options });
      await Promise.all(sendEach(producer, values(0, 10)));
      expect(leader.maxInFlight).toBe(1);
      expect(leader.log).toEqual(values(0, 10));
      await mq.close();
      await leader.stop();
    }
  });

  it('refuses a maxInFlight outside 1..5', () => {
    leader = new ScriptedLeader();
    mq = new MyQueue({ manager: 'http://127.0.0.1:1', heartbeats: false });
    for (const maxInFlight of [0, 6, 1.5]) expect(() => mq.producer({ maxInFlight })).toThrow(/maxInFlight/);
  });
});
