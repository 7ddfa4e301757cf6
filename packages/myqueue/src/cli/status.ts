/** `myqueue status`: the cluster as the manager sees it, as a short report or JSON. */
import type { ClusterStatus, ManagerHealth } from '@myqueue/protocol';

export function formatStatus(health: ManagerHealth, status: ClusterStatus): string {
  const lines: string[] = [];
  lines.push(
    `manager ${health.node} (${health.role}), primary ${status.primary?.id ?? 'unknown'}, database ${health.database}`,
  );
  lines.push('');
  lines.push('brokers:');
  for (const b of status.brokers)
    lines.push(`  ${b.id.padEnd(8)} ${b.state.padEnd(8)} ${b.url}  (seen ${b.lastSeenAgoMs} ms ago)`);
  if (status.brokers.length === 0) lines.push('  (none)');
  lines.push('');
  lines.push('partitions:');
  for (const p of status.partitions)
    lines.push(
      `  ${`${p.topic}/${p.partition}`.padEnd(24)} leader ${String(p.leader ?? '-').padEnd(8)} replicas ${p.replicas.join(',').padEnd(12)} ${p.state}`,
    );
  if (status.partitions.length === 0) lines.push('  (none)');
  lines.push('');
  lines.push('clients:');
  for (const c of status.clients)
    lines.push(
      `  ${c.kind.padEnd(8)} ${String(c.id).padEnd(6)} ${c.state.padEnd(8)} ${c.topics.map((t) => t.topic + (t.partition === null ? '' : `/${t.partition}`)).join(',')}`,
    );
  if (status.clients.length === 0) lines.push('  (none)');
  return lines.join('\n');
}
