/**
 * A fastify route pattern from a protocol path builder called with ':param' placeholders: the builders
 * percent-encode their arguments (':topic' would become '%3Atopic', a route nobody can reach).
 */
export function routePattern(path: string): string {
  return decodeURIComponent(path);
}
