import { describe, expect, it } from 'vitest';
import { RoundRobin } from '../src/round-robin.js';
import { mergeParams, topicOf } from '../src/legacy-params.js';

describe('round-robin', () => {
  it('spreads 30 produces over 3 partitions 10 each, in rotation', () => {
    const rr = new RoundRobin();
    const counts = [0, 0, 0];
    const seq: number[] = [];
    for (let i = 0; i < 30; i++) {
      const p = rr.next('T', 3);
      counts[p]++;
      seq.push(p);
    }
    expect(counts).toEqual([10, 10, 10]);
    expect(seq.slice(0, 6)).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('keeps one rotation per key', () => {
    const rr = new RoundRobin();
    expect(rr.next('a', 2)).toBe(0);
    expect(rr.next('b', 2)).toBe(0);
    expect(rr.next('a', 2)).toBe(1);
  });

  it('orders a consumer rotation from after the partition it last consumed from', () => {
    const rr = new RoundRobin();
    expect(rr.order('c1', 3)).toEqual([0, 1, 2]);
    rr.servedBy('c1', 2, 3);
    expect(rr.order('c1', 3)).toEqual([0, 1, 2]);
    rr.servedBy('c1', 0, 3);
    expect(rr.order('c1', 3)).toEqual([1, 2, 0]);
  });

  it('forgets the oldest keys past its bound', () => {
    const rr = new RoundRobin(2);
    rr.next('a', 3);
    rr.next('b', 3);
    rr.next('c', 3);
    expect(rr.next('a', 3)).toBe(0);
    expect(rr.next('c', 3)).toBe(1);
  });
});

describe('logging-queue parameters', () => {
  it('merge the JSON body and the query string, the query winning', () => {
    expect(mergeParams<Record<string, unknown>>({ topic: 'q' }, { topic: 'b', consumer_id: 3 })).toEqual({
      topic: 'q',
      consumer_id: 3,
    });
    expect(mergeParams<Record<string, unknown>>(undefined, null)).toEqual({});
  });

  it('accept topic_name (and name) for topic and name the missing field', () => {
    expect(topicOf({ topic_name: 'T' })).toBe('T');
    expect(topicOf({ name: 'N' })).toBe('N');
    expect(topicOf({ topic: 'A', topic_name: 'B' })).toBe('A');
    expect(() => topicOf({})).toThrow(/topic/);
  });
});
