/**
 * A progress bar on stderr (cli-progress) over the benchmark's steps; when stderr is not a terminal (CI,
 * a log file) one line per step instead.
 */
import { SingleBar } from 'cli-progress';

export class Progress {
  readonly #bar: SingleBar | undefined;
  readonly #lines: boolean;
  #done = 0;

  constructor(totalSteps: number, enabled: boolean) {
    this.#lines = enabled && !process.stderr.isTTY;
    if (!enabled || !process.stderr.isTTY) return;
    this.#bar = new SingleBar({
      format: '{bar} {percentage}% | {step}',
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    });
    this.#bar.start(totalSteps * 100, 0, { step: 'starting' });
  }

  begin(step: string): void {
    if (this.#lines) process.stderr.write(`[bench] ${new Date().toISOString().slice(11, 19)} ${step}\n`);
    this.#bar?.update(this.#done * 100, { step });
  }

  /** Fraction (0..1) of the current step. */
  tick(fraction: number): void {
    this.#bar?.update(Math.round((this.#done + Math.min(1, Math.max(0, fraction))) * 100));
  }

  /** Ends the current step; `steps` is how many plan steps it counts for (0 for setup). */
  end(steps = 1): void {
    this.#done += steps;
    this.#bar?.update(this.#done * 100);
  }

  stop(): void {
    this.#bar?.stop();
  }
}
