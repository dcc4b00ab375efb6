import { ValidationError } from '@nestjs/common';
import { AppError } from './app-error';

/** Flattens class-validator errors into one sentence that names each offending field. */
export function describeValidationErrors(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((rule) =>
      rule.startsWith(`${error.property} `)
        ? `${path} ${rule.slice(error.property.length + 1)}`
        : `${path}: ${rule}`,
    );
    return [...own, ...describeValidationErrors(error.children ?? [], path)];
  });
}

/** `exceptionFactory` for ValidationPipe: a 400 with code `invalid_payload`. */
export function validationException(errors: ValidationError[]): AppError {
  return AppError.invalidPayload(describeValidationErrors(errors).join('; ') || 'Invalid payload');
}
