import { Writable } from 'node:stream';

/** For specs: a pino destination that keeps every line written to it, parsed. */
export class LogLines extends Writable {
  readonly lines: Record<string, unknown>[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    done();
  }
}
