#!/usr/bin/env node
// Placeholder until the manager and broker land: says so plainly instead of pretending to start anything.
console.error('myqueue: the local cluster needs the broker and manager packages, which have not landed yet.');
process.exit(1);
