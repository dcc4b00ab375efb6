import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ProtocolTypes } from './type-shapes';

const ROOT = join(__dirname, '..', '..');
const PAGE = join(ROOT, 'docs/socket-protocol.md');

/**
 * docs/socket-protocol.md is prose, but what it must name comes from the wire types: every
 * event, request and code is mentioned (as `code`), and every relative link resolves.
 */
describe('docs/socket-protocol.md', () => {
  const types = new ProtocolTypes(join(ROOT, 'client/src/protocol/index.ts'));
  const page = readFileSync(PAGE, 'utf8');

  it.each([
    ['event', types.keysOf('ServerEvents')],
    ['request', types.keysOf('ClientRequestPayloads')],
    ['error code', types.literalsOf('ErrorCode')],
    ['run failure code', types.literalsOf('RunFailureCode')],
  ])('names every %s', (_kind, names) => {
    expect(names.filter((name) => !page.includes(`\`${name}\``))).toEqual([]);
  });

  it('has a table row for every error code and run failure code', () => {
    const rows = (names: string[]) => names.filter((name) => !page.includes(`| \`${name}\` |`));
    expect(rows(types.literalsOf('ErrorCode'))).toEqual([]);
    expect(rows(types.literalsOf('RunFailureCode'))).toEqual([]);
  });

  it('links only to files that exist', () => {
    const targets = [...page.matchAll(/\]\(([^)#]+)\)/g)].map((match) => match[1]);
    expect(targets.length).toBeGreaterThan(0);
    const broken = targets.filter(
      (target) => !/^https?:/.test(target) && !existsSync(join(dirname(PAGE), target)),
    );
    expect(broken).toEqual([]);
  });
});
