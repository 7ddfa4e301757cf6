import type { Message } from '../types.js';
import { MessageType } from '../types.js';

/**
 * The last `capacity` lines of what happened, for a violation report; with `sink` every line is also
 * printed as it happens (the CLI's --verbose).
 */
export class Trace {
  readonly #lines: string[] = [];
  readonly #capacity: number;
  #next = 0;
  readonly #sink: ((line: string) => void) | undefined;

  constructor(capacity: number, sink?: (line: string) => void) {
    this.#capacity = Math.max(1, capacity);
    this.#sink = sink;
  }

  add(time: number, line: string): void {
    const text = `${String(time).padStart(7)} ${line}`;
    if (this.#lines.length < this.#capacity) this.#lines.push(text);
    else this.#lines[this.#next] = text;
    this.#next = (this.#next + 1) % this.#capacity;
    this.#sink?.(text);
  }

  /** The retained lines, oldest first. */
  tail(n = this.#capacity): string[] {
    const ordered =
      this.#lines.length < this.#capacity ? this.#lines.slice() : [...this.#lines.slice(this.#next), ...this.#lines.slice(0, this.#next)];
    return ordered.slice(Math.max(0, ordered.length - n));
  }
}

/** One-line description of a message for traces. */
export function describeMessage(m: Message): string {
  let s = `${m.from}->${m.to} ${m.type} t${m.term}`;
  if (m.type === MessageType.App) {
    const n = m.entries?.length ?? 0;
    s += ` i${m.index ?? '?'}/${m.logTerm ?? '?'} +${n} c${m.commit ?? '?'}`;
  } else if (m.type === MessageType.AppResp) {
    s += ` i${m.index ?? '?'}${m.reject ? ` REJECT hint ${m.rejectHint ?? '?'}/${m.hintTerm ?? '?'}` : ''}`;
  } else if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
    s += ` last ${m.index ?? '?'}/${m.logTerm ?? '?'}`;
  } else if (m.type === MessageType.VoteResp || m.type === MessageType.PreVoteResp) {
    s += m.reject ? ' reject' : ' grant';
  } else if (m.type === MessageType.Snap && m.snapshot) {
    s += ` snap ${m.snapshot.meta.index}/${m.snapshot.meta.term} @${m.snapshot.offset}+${m.snapshot.data.length}${m.snapshot.done ? ' done' : ''}`;
  } else if (m.type === MessageType.SnapResp) {
    s += ` i${m.index ?? '?'} off ${m.chunkOffset ?? '?'}${m.reject ? ' reject' : ''}`;
  } else if (m.type === MessageType.Heartbeat) {
    s += ` c${m.commit ?? '?'}`;
  }
  return s;
}
