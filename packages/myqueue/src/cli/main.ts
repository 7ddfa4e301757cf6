#!/usr/bin/env node
/**
 * The myqueue CLI: try a cluster from a shell.
 *
 *   myqueue topics                          list topics
 *   myqueue topics create logs -p 3 -r 3    create a topic
 *   myqueue produce logs app.log            one message per line (progress bar), or from stdin
 *   myqueue consume logs --from-beginning   messages to stdout
 *   myqueue status                          brokers, partitions, clients
 *
 * The manager comes from --manager or MYQUEUE_MANAGER (default http://127.0.0.1:5000).
 */
import { createRequire } from 'node:module';
import { Command, InvalidArgumentError, Option } from 'commander';
import { MyQueueError } from '../errors.js';
import { MyQueue } from '../myqueue.js';
import { consumeCommand } from './consume.js';
import { produceCommand } from './produce.js';
import { formatStatus } from './status.js';

const DEFAULT_MANAGER = 'http://127.0.0.1:5000';
// dist/cli/main.js -> the package's package.json.
const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

function int(name: string, min = 0) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

interface GlobalOptions {
  manager: string;
  token?: string;
  timeout: number;
}

function clientFrom(program: Command): MyQueue {
  const g = program.opts<GlobalOptions>();
  return new MyQueue({ manager: g.manager, token: g.token, retryTimeoutMs: g.timeout });
}

async function withClient<T>(program: Command, fn: (client: MyQueue) => Promise<T>): Promise<T> {
  const client = clientFrom(program);
  try {
    return await fn(client);
  } finally {
    await client.close().catch(() => undefined);
  }
}

export function buildProgram(): Command {
  const program = new Command('myqueue')
    .description('Talk to a myqueue cluster: topics, produce, consume, status')
    .version(version)
    .addOption(
      new Option('-m, --manager <urls>', 'manager URL(s), comma-separated')
        .env('MYQUEUE_MANAGER')
        .default(DEFAULT_MANAGER),
    )
    .addOption(new Option('--token <token>', 'client token, if the cluster needs one').env('MYQUEUE_TOKEN'))
    .addOption(
      new Option('--timeout <ms>', 'how long a call keeps retrying').argParser(int('timeout', 1)).default(30_000),
    )
    .showHelpAfterError();

  const topics = program
    .command('topics')
    .description('list topics')
    .option('--json', 'print metadata as JSON')
    .action(async (opts: { json?: boolean }) => {
      await withClient(program, async (client) => {
        if (opts.json) console.log(JSON.stringify((await client.metadata()).topics, null, 2));
        else for (const name of await client.listTopics()) console.log(name);
      });
    });
  topics
    .command('create <name>')
    .description('create a topic')
    .option('-p, --partitions <n>', 'partitions (manager default when absent)', int('partitions', 1))
    .option(
      '-r, --replication-factor <n>',
      'replicas per partition (manager default when absent)',
      int('replication factor', 1),
    )
    .action(async (name: string, opts: { partitions?: number; replicationFactor?: number }) => {
      await withClient(program, async (client) => {
        const t = await client.createTopic({
          name,
          partitions: opts.partitions,
          replicationFactor: opts.replicationFactor,
        });
        console.log(`created ${t.name}: ${t.partitions.length} partitions, replication factor ${t.replicationFactor}`);
      });
    });

  program
    .command('produce <topic> [file]')
    .description('send one message per line of <file>, or of stdin')
    .option('-k, --key <key>', 'key of every message (picks the partition)')
    .option('-p, --partition <n>', 'send everything to this partition', int('partition'))
    .option('--linger-ms <ms>', 'batching delay', int('linger-ms'))
    .option('--batch-size <n>', 'most messages per batch', int('batch-size', 1))
    .option('--max-pending <n>', 'most messages awaiting their ack', int('max-pending', 1), 20_000)
    .option('--no-idempotent', 'disable the idempotent producer')
    .option('--create', 'create the topic if it does not exist')
    .option('--progress', 'show the progress bar of a file even when stderr is not a terminal')
    .option('--no-progress', 'no progress bar (default when stderr is not a terminal)')
    .action(
      async (
        topic: string,
        file: string | undefined,
        opts: {
          key?: string;
          partition?: number;
          lingerMs?: number;
          batchSize?: number;
          maxPending: number;
          idempotent: boolean;
          create?: boolean;
          progress?: boolean;
        },
      ) => {
        const summary = await withClient(program, (client) =>
          produceCommand(client, topic, file, {
            ...opts,
            create: opts.create ?? false,
            progress: opts.progress ?? process.stderr.isTTY === true,
          }),
        );
        const secs = summary.elapsedMs / 1000;
        console.error(
          `sent ${summary.sent} messages to ${topic} in ${secs.toFixed(2)} s (${Math.round(summary.sent / Math.max(secs, 0.001))} msg/s)`,
        );
        if (summary.failed > 0) {
          console.error(`${summary.failed} messages failed`);
          throw summary.firstError;
        }
      },
    );

  program
    .command('consume <topics...>')
    .description('print messages of the topics to stdout')
    .addOption(
      new Option('--start-at <where>', 'committed position, first or next offset')
        .choices(['committed', 'earliest', 'latest'])
        .default('committed'),
    )
    .option('--from-beginning', 'same as --start-at earliest')
    .option('--consumer-id <id>', 'continue as this consumer (its committed positions)', int('consumer-id', 1))
    .option('-n, --max-messages <n>', 'exit after this many messages', int('max-messages', 1))
    .option('--idle-timeout <ms>', 'exit after this long without a message (0: never)', int('idle-timeout'), 0)
    .option('--json', 'print each message as a JSON line (topic, partition, offset, key, value, headers)')
    .action(
      async (
        topicList: string[],
        opts: {
          startAt: 'committed' | 'earliest' | 'latest';
          fromBeginning?: boolean;
          consumerId?: number;
          maxMessages?: number;
          idleTimeout: number;
          json?: boolean;
        },
      ) => {
        const ac = new AbortController();
        const onSignal = () => ac.abort(new Error('interrupted'));
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          const count = await withClient(program, (client) =>
            consumeCommand(client, topicList, {
              startAt: opts.fromBeginning ? 'earliest' : opts.startAt,
              consumerId: opts.consumerId,
              maxMessages: opts.maxMessages,
              idleTimeoutMs: opts.idleTimeout,
              json: opts.json ?? false,
              signal: ac.signal,
            }),
          );
          console.error(`consumed ${count} messages`);
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      },
    );

  program
    .command('status')
    .description('brokers, partitions and clients as the manager sees them')
    .option('--json', 'print the raw status as JSON')
    .action(async (opts: { json?: boolean }) => {
      await withClient(program, async (client) => {
        const [health, status] = await Promise.all([client.health(), client.status()]);
        console.log(opts.json ? JSON.stringify({ health, status }, null, 2) : formatStatus(health, status));
      });
    });

  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    return 0;
  } catch (e) {
    if (e instanceof MyQueueError) console.error(`myqueue: ${e.message} (${e.code})`);
    else console.error(`myqueue: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

/**
 * Exits once stdout and stderr are flushed. Explicitly: a consume interrupted by SIGINT right after its
 * last record was seen to keep the process alive on its stdio pipes with nothing else left to do.
 */
function exit(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

main(process.argv).then(exit, () => exit(1));
