/**
 * What a scenario producer sends for a log line: `P<i>:<line number><TAB><the line>`. The original files
 * repeat message ids, so the tag (producer and 1-based line number) is what identifies a message.
 */

export interface TaggedMessage {
  readonly producer: string;
  readonly lineNo: number;
  readonly line: string;
}

export function tagMessage(producer: string, lineNo: number, line: string): string {
  return `${producer}:${lineNo}\t${line}`;
}

/** The tag of a message (`P1:17`), or undefined when it has none. */
export function parseTag(message: string): TaggedMessage | undefined {
  const m = /^(P\d+):(\d+)\t/.exec(message);
  if (!m) return undefined;
  return { producer: m[1], lineNo: Number(m[2]), line: message.slice(m[0].length) };
}

export function tagOf(message: string): string | undefined {
  const t = parseTag(message);
  return t && `${t.producer}:${t.lineNo}`;
}
