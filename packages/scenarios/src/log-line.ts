/**
 * The original assignment's log line format: `HH:MM:SS<TAB>LEVEL<TAB><TAB>P<i>-<n><TAB><TAB>T-<k>`
 * (runs of tabs separate the fields; the last one names the topic the line goes to).
 */

export interface LogLine {
  readonly time: string;
  readonly level: string;
  /** The message id as written, e.g. `P1-17` (not unique: see testdata/logging-queue/README.md). */
  readonly id: string;
  /** k of `T-<k>`: the line belongs to topic T<k>. */
  readonly topic: number;
}

const LINE = /^(\d{2}:\d{2}:\d{2})\t+([A-Z]+)\t+(P\d+-\d+)\t+T-(\d+)$/;

/** Parses one line; throws on anything else, naming the line. */
export function parseLogLine(line: string, where = 'line'): LogLine {
  const m = LINE.exec(line.replace(/\r$/, ''));
  if (!m) throw new Error(`${where}: not a log line of the original format: ${JSON.stringify(line)}`);
  return { time: m[1], level: m[2], id: m[3], topic: Number(m[4]) };
}

/** Formats a line the way the original files do (double tabs before the id and the topic). */
export function formatLogLine(l: LogLine): string {
  return `${l.time}\t${l.level}\t\t${l.id}\t\tT-${l.topic}`;
}
