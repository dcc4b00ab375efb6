import { Encoder, PacketType, type Packet } from 'socket.io-parser';
import { depthLimitedParser } from './depth-limited-parser';

function nested(depth: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** Encodes `data` as an event packet, decodes it with the limited parser, returns what came out. */
function roundTrip(maxDepth: number, data: unknown): Packet[] {
  const { Decoder } = depthLimitedParser(maxDepth);
  const decoder = new Decoder();
  const decoded: Packet[] = [];
  decoder.on('decoded', (packet: Packet) => decoded.push(packet));
  const packet: Packet = { type: PacketType.EVENT, nsp: '/chat-run', data: ['run', data], id: 3 };
  for (const encoded of new Encoder().encode(packet) as string[]) decoder.add(encoded);
  return decoded;
}

describe('depthLimitedParser', () => {
  it('decodes a message nested up to the limit (the argument list not counted)', () => {
    const [packet] = roundTrip(4, { input: nested(3) });
    expect(packet).toMatchObject({
      type: PacketType.EVENT,
      id: 3,
      data: ['run', { input: [[[0]]] }],
    });
  });

  it('refuses a deeper one without parsing it', () => {
    const parse = jest.spyOn(JSON, 'parse');
    expect(() => roundTrip(4, { input: nested(4) })).toThrow('Packet nested deeper than 4 levels');
    expect(parse).not.toHaveBeenCalled();
    parse.mockRestore();
  });

  it('lets binary attachments through to the usual decoder', () => {
    const decoded = roundTrip(4, { file: Buffer.from('abc') });
    expect(decoded).toHaveLength(1);
  });
});
