import type { Message, NodeId } from './types.js';

/**
 * How a node reaches its peers. Delivery is best effort: messages may be dropped, duplicated or
 * reordered and Raft stays safe; the transport should keep one link per peer and carry the messages of
 * every group over it, in order per link where it can.
 */
export interface Transport {
  /** Queues messages for their `to` nodes. Never throws for an unreachable peer; it just drops. */
  send(messages: readonly Message[]): void;
  /** Hook for the receiver: the driver calls step() for each incoming message. */
  onMessage(handler: (message: Message) => void): void;
  /** Tells the transport a peer's address changed or is new. */
  setPeer?(node: NodeId, address: string): void;
  close(): Promise<void> | void;
}
