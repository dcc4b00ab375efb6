import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse } from '@nestjs/swagger';
import type { ErrorBody } from './all-exceptions.filter';
import { ErrorResponseDto } from './error.response.dto';

/** The error statuses the REST routes answer with a coded body. */
export type ErrorStatus = 400 | 401 | 404 | 409 | 413 | 500 | 503;

/**
 * One coded error answer of a route (class or method), documented with the body
 * AllExceptionsFilter writes and an example of it. A method's answer replaces its class's for
 * the same status. (Not named `Api…Response`: the Swagger plugin would take a decorator of that
 * name for the success answer and stop documenting the route's own.)
 */
export const ApiCodedError = (
  status: ErrorStatus,
  description: string,
  example: Omit<ErrorBody, 'statusCode'>,
): MethodDecorator & ClassDecorator =>
  ApiResponse({
    status,
    description,
    type: ErrorResponseDto,
    example: { statusCode: status, ...example },
  });

/** Behind the API's bearer token: 401 without it. */
export const ApiBearerToken = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    ApiBearerAuth(),
    ApiCodedError(401, 'Missing or wrong bearer token', {
      code: 'unauthorized',
      message: 'Missing or invalid bearer token',
    }),
  );

/** Validated parameters: 400 naming each field that is wrong. */
export const ApiInvalidInput = (): MethodDecorator & ClassDecorator =>
  ApiCodedError(400, 'Invalid input; the message names the field', {
    code: 'invalid_payload',
    message: 'limit must not be greater than 200',
  });

/**
 * A JSON request body, bounded before it is parsed (see request-body.ts): 413 over the size
 * limit, 400 nested too deep or when a field is wrong.
 */
export const ApiJsonBody = (): MethodDecorator =>
  applyDecorators(
    ApiCodedError(
      400,
      'Invalid body: a field is wrong (the message names it) or the JSON nests too deep',
      { code: 'invalid_payload', message: 'title must be shorter than or equal to 500 characters' },
    ),
    ApiCodedError(413, 'The body is larger than HTTP_MAX_BODY_BYTES', {
      code: 'payload_too_large',
      message: 'The request body is larger than 1048576 bytes',
    }),
  );
