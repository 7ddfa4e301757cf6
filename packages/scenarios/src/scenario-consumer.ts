/**
 * A scenario consumer: reads its topics through the classic MyConsumer and writes every message it
 * receives to a file, until told the producers are done and nothing is left to read.
 */
import { MyConsumer, type Logger } from 'myqueue';
import { RecordWriter } from './record-file.js';

export interface ScenarioConsumerOptions {
  readonly name: string;
  readonly manager: string;
  /** Cluster topics the consumer registers for. */
  readonly topics: readonly string[];
  /** Where received messages go (record file format). */
  readonly outFile: string;
  readonly logger?: Logger;
}

export interface ScenarioConsumerResult {
  readonly name: string;
  readonly received: number;
  /** Messages still unread when it gave up waiting (0 when it drained every topic). */
  readonly leftBehind: number;
}

/** A running consumer: `drain()` waits until it has read everything there is, then stops it. */
export class ScenarioConsumer {
  readonly name: string;
  readonly #consumer: MyConsumer;
  readonly #topics: readonly string[];
  readonly #out: RecordWriter;
  readonly #loop: Promise<number>;
  #ended = false;

  constructor(o: ScenarioConsumerOptions) {
    this.name = o.name;
    this.#topics = o.topics;
    this.#consumer = new MyConsumer({ topics: o.topics, manager: o.manager, logger: o.logger });
    this.#out = new RecordWriter(o.outFile);
    this.#loop = this.#read().finally(() => (this.#ended = true));
    // A failure surfaces through drain(); it must not be an unhandled rejection meanwhile.
    this.#loop.catch(() => undefined);
  }

  async #read(): Promise<number> {
    let received = 0;
    for await (const m of this.#consumer.getNext()) {
      await this.#out.write(m);
      received++;
    }
    return received;
  }

  async #unread(): Promise<number> {
    const sizes = await Promise.all(this.#topics.map((t) => this.#consumer.size(t)));
    return sizes.reduce((a, b) => a + b, 0);
  }

  /**
   * Call once every producer is done: waits until no topic has unread messages (or `timeoutMs` passed),
   * then stops the consumer and closes its file.
   */
  async drain(timeoutMs: number, pollMs = 200): Promise<ScenarioConsumerResult> {
    const deadline = Date.now() + timeoutMs;
    let left = Number.NaN;
    try {
      // A consumer whose loop ended (it failed) has nothing more to wait for.
      while (!this.#ended) {
        left = await this.#unread();
        if (left === 0 || Date.now() >= deadline) break;
        await new Promise((r) => setTimeout(r, pollMs));
      }
    } finally {
      await this.#consumer.stop();
    }
    try {
      const received = await this.#loop;
      return { name: this.name, received, leftBehind: left };
    } finally {
      await this.#out.close();
    }
  }
}
