import type { INestApplication, Type } from '@nestjs/common';
import { METHOD_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ModulesContainer } from '@nestjs/core';
import { getMetadataStorage } from 'class-validator';

/** A field of a route's input as the ValidationPipe checks it. */
export interface ValidatedField {
  /** The route's Swagger operation id (`<Controller>_<method>`). */
  operationId: string;
  in: 'query' | 'path' | 'body';
  name: string;
  /** class-validator's rule names on it, e.g. `isInt`, `isIn`. */
  rules: Map<string, unknown[]>;
}

const SOURCES = new Map<number, ValidatedField['in']>([
  [RouteParamtypes.QUERY, 'query'],
  [RouteParamtypes.PARAM, 'path'],
  [RouteParamtypes.BODY, 'body'],
]);

/**
 * Every field the app validates, found from its routes: the DTO classes of each handler's
 * `@Query()`, `@Param()` and `@Body()`, and class-validator's rules on their properties. What
 * the server really checks, to hold the document against.
 */
export function validatedFields(app: INestApplication): ValidatedField[] {
  const controllers = [...app.get(ModulesContainer).values()].flatMap((module) =>
    [...module.controllers.values()].map((wrapper) => wrapper.metatype as Type),
  );
  return controllers.flatMap((controller) =>
    Object.getOwnPropertyNames(controller.prototype)
      .filter((method) => isHandler(controller, method))
      .flatMap((method) => handlerFields(controller, method)),
  );
}

function isHandler(controller: Type, method: string): boolean {
  const handler: unknown = Reflect.get(controller.prototype as object, method);
  return (
    typeof handler === 'function' && Reflect.getMetadata(METHOD_METADATA, handler) !== undefined
  );
}

function handlerFields(controller: Type, method: string): ValidatedField[] {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, method) ?? {}) as Record<
    string,
    { index: number; data?: unknown }
  >;
  const types = (Reflect.getMetadata('design:paramtypes', controller.prototype, method) ??
    []) as Type[];
  return Object.entries(args).flatMap(([key, { index, data }]) => {
    const source = SOURCES.get(Number(key.split(':')[0]));
    // A whole-object DTO; a single named value (`@Query('x')`) carries no class rules.
    if (!source || data !== undefined) return [];
    const rules = new Map<string, Map<string, unknown[]>>();
    for (const rule of getMetadataStorage().getTargetValidationMetadatas(
      types[index],
      '',
      true,
      false,
    )) {
      if (!rule.name) continue;
      const field = rules.get(rule.propertyName) ?? new Map<string, unknown[]>();
      field.set(rule.name, (rule.constraints ?? []) as unknown[]);
      rules.set(rule.propertyName, field);
    }
    return [...rules].map(([name, fieldRules]) => ({
      operationId: `${controller.name}_${method}`,
      in: source,
      name,
      rules: fieldRules,
    }));
  });
}
