import { ValidationPipe } from '@nestjs/common';
import type { ValidationError } from '@nestjs/common';
import type { ValidatorOptions } from 'class-validator';
import { validationException } from '../errors/validation';

const IGNORES_UNKNOWN_FIELDS = Symbol('ignoresUnknownFields');

/**
 * The OpenAPI extension that says so of an operation (`'x-unknown-fields': 'ignored'`), for the
 * routes whose inputs are marked {@link IgnoresUnknownFields}.
 */
export const UNKNOWN_FIELDS_EXTENSION = 'x-unknown-fields';

/**
 * Marks a query or body DTO whose unknown fields are dropped rather than refused. For routes
 * served to a client written against another server, which sends parameters this API does not
 * use (that server ignored what it did not know); every declared field is still validated.
 */
export const IgnoresUnknownFields = (): ClassDecorator => (target) => {
  Reflect.defineMetadata(IGNORES_UNKNOWN_FIELDS, true, target);
};

/**
 * The API's validation of every route input: declared fields are checked and converted, an
 * unknown field is a 400 `invalid_payload` (so a misspelt parameter is never silently ignored),
 * except in a DTO marked `@IgnoresUnknownFields()`, where it is dropped.
 */
export class RequestValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: validationException,
    });
  }

  protected override validate(
    object: object,
    options?: ValidatorOptions,
  ): Promise<ValidationError[]> | ValidationError[] {
    const lenient = Reflect.getMetadata(IGNORES_UNKNOWN_FIELDS, object.constructor) === true;
    return super.validate(object, lenient ? { ...options, forbidNonWhitelisted: false } : options);
  }
}
