import { RaftNode } from '../raft-node.js';
import type { NodeFactory } from './cluster.js';

/** The real core, as the simulator runs it by default. */
export const createRaftNode: NodeFactory = (options) => new RaftNode(options);
