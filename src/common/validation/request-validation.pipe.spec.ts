import type { ArgumentMetadata } from '@nestjs/common';
import { IsInt, IsOptional } from 'class-validator';
import { Type } from 'class-transformer';
import { AppError } from '../errors/app-error';
import { IgnoresUnknownFields, RequestValidationPipe } from './request-validation.pipe';

class StrictQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  limit?: number;
}

@IgnoresUnknownFields()
class LenientQuery extends StrictQuery {}

class LenientChildQuery extends LenientQuery {}

describe('RequestValidationPipe', () => {
  const pipe = new RequestValidationPipe();
  const query = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({
    type: 'query',
    metatype,
  });
  const refusal = async (promise: Promise<unknown>): Promise<AppError> => {
    const error: unknown = await promise.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  };

  it('refuses an unknown field, naming it', async () => {
    const error = await refusal(pipe.transform({ limit: '5', limt: '6' }, query(StrictQuery)));
    expect(error.code).toBe('invalid_payload');
    expect(error.message).toContain('limt');
  });

  it('drops an unknown field of a DTO marked @IgnoresUnknownFields(), and of its subclasses', async () => {
    for (const metatype of [LenientQuery, LenientChildQuery]) {
      const value: unknown = await pipe.transform({ limit: '5', profile: 'x' }, query(metatype));
      expect(value).toBeInstanceOf(metatype);
      expect({ ...(value as object) }).toEqual({ limit: 5 });
    }
  });

  it('still validates every declared field of a lenient DTO', async () => {
    const error = await refusal(pipe.transform({ limit: 'lots', extra: 1 }, query(LenientQuery)));
    expect(error.message).toContain('limit');
    expect(error.message).not.toContain('extra');
  });
});
