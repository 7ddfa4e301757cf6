/** JSON helpers for the tests that script a manager + broker with a plain node:http server. */
import type { TopicMetadata } from '@myqueue/protocol';
import type { IncomingMessage, ServerResponse } from 'node:http';

export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

export function replyJson(res: ServerResponse, status: number, json: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
}

/** Topic `t` as the manager describes it: `partitions` partitions, each led by the one broker `b1` at `url`. */
export function topicAnswer(url: string, partitions = 1, highWatermark = 0): TopicMetadata {
  return {
    name: 't',
    replicationFactor: 1,
    createdAt: 0,
    partitions: Array.from({ length: partitions }, (_, partition) => ({
      partition,
      leader: 'b1',
      leaderUrl: url,
      leaderTerm: 1,
      replicas: ['b1'],
      learners: [],
      liveReplicas: ['b1'],
      highWatermark,
    })),
  };
}

/** The manager's metadata answer for one broker `b1` at `url` and the given topics. */
export function metadataAnswer(url: string, topics: unknown[]): Record<string, unknown> {
  return {
    status: 'success',
    node: 'm1',
    primary: null,
    managers: [],
    brokers: [{ id: 'b1', url, peer: 'x:1', state: 'alive', lastSeenAgoMs: 0, registeredAt: 0 }],
    topics,
  };
}
