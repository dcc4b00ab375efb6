import { plainToInstance, Type } from 'class-transformer';
import { IsInt, IsString, Matches, ValidateNested, validateSync } from 'class-validator';
import { describeValidationErrors, validationException } from './validation';

class Call {
  @IsString()
  name!: string;

  @Matches(/^\{/, { message: 'must look like a JSON object' })
  arguments!: string;
}

class Payload {
  @IsInt()
  limit!: number;

  @ValidateNested({ each: true })
  @Type(() => Call)
  calls!: Call[];

  @ValidateNested()
  @Type(() => Call)
  main!: Call;
}

function errorsOf(plain: object) {
  return validateSync(plainToInstance(Payload, plain));
}

describe('describeValidationErrors', () => {
  it('names nested fields by their dotted path', () => {
    const problems = describeValidationErrors(
      errorsOf({
        limit: 'ten',
        calls: [
          { name: 'ok', arguments: '{}' },
          { name: 7, arguments: '{}' },
        ],
        main: { name: 'main', arguments: 'nope' },
      }),
    );
    expect(problems).toEqual([
      'limit must be an integer number',
      'calls.1.name must be a string',
      'main.arguments: must look like a JSON object',
    ]);
  });

  it('is empty for a valid payload', () => {
    expect(
      describeValidationErrors(
        errorsOf({ limit: 1, calls: [], main: { name: 'm', arguments: '{}' } }),
      ),
    ).toEqual([]);
  });
});

describe('validationException', () => {
  it('is a 400 invalid_payload naming every problem', () => {
    const error = validationException(
      errorsOf({ limit: 1.5, calls: [], main: { name: 1, arguments: '{}' } }),
    );
    expect(error).toMatchObject({ code: 'invalid_payload', status: 400 });
    expect(error.message).toBe('limit must be an integer number; main.name must be a string');
  });

  it('still says something when there are no details', () => {
    expect(validationException([]).message).toBe('Invalid payload');
  });
});
