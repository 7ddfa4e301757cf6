import type { Ready } from '../types.js';
import type { NodeFactory } from './cluster.js';

/**
 * Wraps a node factory so that every Ready is altered by `mutate` before the simulator sees it (advance
 * still gets the original). Used to prove the simulator catches a broken core: e.g. one that never asks
 * for an fsync, or one that forgets its vote.
 */
export function brokenNode(inner: NodeFactory, mutate: (rd: Ready) => Ready): NodeFactory {
  return (options) => {
    const node = inner(options);
    const originals = new WeakMap<Ready, Ready>();
    return new Proxy(node, {
      get(target, prop) {
        if (prop === 'ready') {
          return (): Ready => {
            const rd = target.ready();
            const changed = mutate(rd);
            originals.set(changed, rd);
            return changed;
          };
        }
        if (prop === 'advance') return (rd: Ready) => target.advance(originals.get(rd) ?? rd);
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  };
}

/** A core that claims nothing needs an fsync: it sends (votes, acks) before its state is durable. */
export function sendsBeforePersisting(inner: NodeFactory): NodeFactory {
  return brokenNode(inner, (rd) => ({ ...rd, mustSync: false }));
}

/** A core that never persists its vote: after a restart it can vote twice in one term. */
export function forgetsVotes(inner: NodeFactory): NodeFactory {
  return brokenNode(inner, (rd) => (rd.hardState ? { ...rd, hardState: { ...rd.hardState, vote: '' } } : rd));
}
