/**
 * Idempotent-producer bookkeeping of one producer on one partition: the last PRODUCER_WINDOW batches it
 * wrote (first sequence, record count, base offset), newest last. Pure logic, shared by apply and tests.
 */
export const PRODUCER_WINDOW = 5;

export interface WindowBatch {
  readonly sequence: number;
  readonly count: number;
  readonly baseOffset: number;
}

export type ProducerWindow = readonly WindowBatch[];

export type SequenceCheck =
  | { readonly kind: 'new' }
  | { readonly kind: 'duplicate'; readonly baseOffset: number }
  | { readonly kind: 'out-of-order'; readonly message: string };

/** The sequence a producer's next batch must carry, undefined for a producer with no window. */
export function nextSequence(window: ProducerWindow | undefined): number | undefined {
  const last = window?.[window.length - 1];
  return last ? last.sequence + last.count : undefined;
}

/**
 * Classifies a batch (sequence of its first record, record count) against a producer's window.
 * A producer with no window may start at any sequence (a restarted client continues where it was).
 */
export function checkSequence(window: ProducerWindow | undefined, sequence: number, count: number): SequenceCheck {
  const expected = nextSequence(window);
  if (!window || expected === undefined) return { kind: 'new' };
  if (sequence === expected) return { kind: 'new' };
  const seen = window.find((b) => b.sequence === sequence);
  if (seen) {
    if (seen.count === count) return { kind: 'duplicate', baseOffset: seen.baseOffset };
    return {
      kind: 'out-of-order',
      message: `sequence ${sequence} was committed with ${seen.count} records, not ${count}`,
    };
  }
  if (sequence > expected)
    return { kind: 'out-of-order', message: `sequence ${sequence} skips ahead: expected ${expected}` };
  return {
    kind: 'out-of-order',
    message: `sequence ${sequence} is older than the last ${PRODUCER_WINDOW} batches (expected ${expected})`,
  };
}

/** The window after a new batch was stored. */
export function pushBatch(window: ProducerWindow | undefined, batch: WindowBatch): ProducerWindow {
  const next = [...(window ?? []), batch];
  return next.length > PRODUCER_WINDOW ? next.slice(next.length - PRODUCER_WINDOW) : next;
}
