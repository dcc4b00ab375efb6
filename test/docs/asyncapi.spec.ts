import { Parser, type AsyncAPIDocumentInterface, type OperationInterface } from '@asyncapi/parser';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { schemaShape } from './schema-shapes';
import { describeShape } from './shape';
import { ProtocolTypes } from './type-shapes';

const ROOT = join(__dirname, '..', '..');
/** Spectral's severities: 0 error, 1 warning, 2 information, 3 hint. */
const WARNING = 1;

/**
 * docs/asyncapi.yaml against the wire types the server and the client compile with
 * (client/src/protocol): the official parser must accept it, and every event, request,
 * acknowledgement and field must be in both, with the same kinds and optionality.
 */
describe('docs/asyncapi.yaml', () => {
  const types = new ProtocolTypes(join(ROOT, 'client/src/protocol/index.ts'));
  const serverEvents = types.keysOf('ServerEvents');
  const requests = types.keysOf('ClientRequestPayloads');
  let document: AsyncAPIDocumentInterface;

  beforeAll(async () => {
    const source = readFileSync(join(ROOT, 'docs/asyncapi.yaml'), 'utf8');
    const { document: parsed, diagnostics } = await new Parser().parse(source);
    const problems = diagnostics
      .filter((d) => Number(d.severity) <= WARNING)
      .map((d) => `${d.code} at ${d.path.join('.')}: ${d.message}`);
    expect(problems).toEqual([]);
    expect(parsed).toBeDefined();
    document = parsed!;
  });

  const operations = (action: 'send' | 'receive'): OperationInterface[] =>
    document
      .operations()
      .all()
      .filter((operation) => operation.action() === action);

  const onlyMessage = (operation: OperationInterface) => {
    const messages = operation.messages().all();
    expect(messages).toHaveLength(1);
    return messages[0];
  };

  const operationFor = (action: 'send' | 'receive', name: string): OperationInterface => {
    const found = operations(action).filter((operation) => onlyMessage(operation).name() === name);
    expect(found).toHaveLength(1);
    return found[0];
  };

  const payloadShape = (message: ReturnType<typeof onlyMessage>) => {
    const payload = message.payload();
    expect(payload).toBeDefined();
    return describeShape(schemaShape(payload!.json()));
  };

  it('has one send operation for each server event of the typed map, and no other', () => {
    const documented = operations('send').map((operation) => onlyMessage(operation).name());
    expect([...documented].sort()).toEqual([...serverEvents].sort());
  });

  it('has one receive operation for each client request of the typed map, and no other', () => {
    const documented = operations('receive').map((operation) => onlyMessage(operation).name());
    expect([...documented].sort()).toEqual([...requests].sort());
  });

  it.each(serverEvents)('documents each field of %s', (event) => {
    const message = onlyMessage(operationFor('send', event));
    expect(payloadShape(message)).toEqual(describeShape(types.shapeOf('ServerEvents', event)));
  });

  it.each(requests)('documents each field of the %s request and of its acknowledgement', (name) => {
    const operation = operationFor('receive', name);
    expect(payloadShape(onlyMessage(operation))).toEqual(
      describeShape(types.shapeOf('ClientRequestPayloads', name)),
    );
    const reply = operation.reply();
    expect(reply).toBeDefined();
    const [ack, ...others] = reply!.messages().all();
    expect(others).toEqual([]);
    expect(payloadShape(ack)).toEqual(describeShape(types.shapeOf('AckReplies', name)));
  });

  it.each(['ErrorCode', 'RunFailureCode'])('lists every %s', (typeName) => {
    const schema = document.components().schemas().get(typeName);
    expect([...(schema?.enum() ?? [])].sort()).toEqual(types.literalsOf(typeName).sort());
  });
});
