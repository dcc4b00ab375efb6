import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync } from 'class-validator';
import { AppError } from '../../common/errors/app-error';
import { describeValidationErrors } from '../../common/errors/validation';

/**
 * Checks an untrusted socket payload against its DTO. Unknown fields are ignored (the protocol
 * says so) and stripped; a payload that is not an object (`null`, a string) is rejected.
 */
export function validatePayload<T extends object>(dto: ClassConstructor<T>, payload: unknown): T {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw AppError.invalidPayload('The payload must be an object');
  }
  const instance = plainToInstance(dto, payload, { excludeExtraneousValues: false });
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: false });
  if (errors.length > 0) throw AppError.invalidPayload(describeValidationErrors(errors).join('; '));
  return instance;
}
