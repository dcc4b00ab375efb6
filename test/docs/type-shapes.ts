import * as ts from 'typescript';
import { childPath, fieldAt, type Shape } from './shape';

/**
 * Reads the wire types with the TypeScript compiler: a type cannot be enumerated at run time,
 * so the event names and payload fields the AsyncAPI check compares come from the checker's
 * view of `client/src/protocol`, the same declarations the server and the client compile with.
 */
export class ProtocolTypes {
  private readonly checker: ts.TypeChecker;
  private readonly exports: Map<string, ts.Symbol>;

  constructor(entryFile: string) {
    const program = ts.createProgram([entryFile], {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2023,
      module: ts.ModuleKind.CommonJS,
      types: [],
    });
    const errors = ts.getPreEmitDiagnostics(program);
    if (errors.length > 0) {
      throw new Error(ts.formatDiagnostics(errors, ts.createCompilerHost({})));
    }
    this.checker = program.getTypeChecker();
    const source = program.getSourceFile(entryFile);
    const module = source && this.checker.getSymbolAtLocation(source);
    if (!module) throw new Error(`${entryFile} is not a module`);
    this.exports = new Map(
      this.checker.getExportsOfModule(module).map((symbol) => [symbol.name, symbol]),
    );
  }

  /** The property names of an exported object type (e.g. the event names of a map). */
  keysOf(typeName: string): string[] {
    return this.checker.getPropertiesOfType(this.typeOf(typeName)).map((p) => p.name);
  }

  /** The string literals of an exported union type. */
  literalsOf(typeName: string): string[] {
    const type = this.typeOf(typeName);
    const members = type.isUnion() ? type.types : [type];
    return members.map((member) => {
      if (!member.isStringLiteral()) throw new Error(`${typeName} is not a string union`);
      return member.value;
    });
  }

  /** The shape of one property's type of an exported map (e.g. `ServerEvents['run.queued']`). */
  shapeOf(typeName: string, key: string): Shape {
    const property = this.checker.getPropertyOfType(this.typeOf(typeName), key);
    if (!property) throw new Error(`${typeName} has no property ${key}`);
    const shape: Shape = new Map();
    this.walk(this.checker.getTypeOfSymbol(property), '', false, shape, 0);
    return shape;
  }

  private typeOf(typeName: string): ts.Type {
    let symbol = this.exports.get(typeName);
    if (!symbol) throw new Error(`The protocol exports no ${typeName}`);
    if (symbol.flags & ts.SymbolFlags.Alias) symbol = this.checker.getAliasedSymbol(symbol);
    return this.checker.getDeclaredTypeOfSymbol(symbol);
  }

  private walk(type: ts.Type, path: string, optional: boolean, shape: Shape, depth: number): void {
    if (depth > 12) throw new Error(`${path} nests too deep (a recursive type?)`);
    const info = fieldAt(shape, path);
    info.optional ||= optional;
    if (type.isUnion()) {
      for (const member of type.types) {
        if (member.flags & ts.TypeFlags.Undefined) continue;
        this.walk(member, path, false, shape, depth);
      }
      return;
    }
    const scalar = this.scalarKind(type);
    if (scalar !== undefined) {
      info.kinds.add(scalar);
      return;
    }
    if (this.checker.isArrayType(type)) {
      info.kinds.add('array');
      const [item] = this.checker.getTypeArguments(type as ts.TypeReference);
      this.walk(item, `${path}[]`, false, shape, depth + 1);
      return;
    }
    info.kinds.add('object');
    if (this.checker.getIndexInfosOfType(type).length > 0) info.open = true;
    for (const property of this.checker.getPropertiesOfType(type)) {
      const isOptional = (property.flags & ts.SymbolFlags.Optional) !== 0;
      const propertyType = this.checker.getTypeOfSymbol(property);
      this.walk(propertyType, childPath(path, property.name), isOptional, shape, depth + 1);
    }
  }

  private scalarKind(type: ts.Type): string | undefined {
    if (type.isStringLiteral()) return JSON.stringify(type.value);
    if (type.isNumberLiteral()) return String(type.value);
    const flags = type.flags;
    if (flags & ts.TypeFlags.BooleanLiteral) return this.checker.typeToString(type);
    if (flags & ts.TypeFlags.String) return 'string';
    if (flags & ts.TypeFlags.Number) return 'number';
    if (flags & ts.TypeFlags.Null) return 'null';
    if (flags & (ts.TypeFlags.Unknown | ts.TypeFlags.Any)) return 'any';
    return undefined;
  }
}
