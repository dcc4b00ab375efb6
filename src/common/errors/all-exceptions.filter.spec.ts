import {
  BadRequestException,
  HttpException,
  HttpStatus,
  Logger,
  NotFoundException,
  PayloadTooLargeException,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { AllExceptionsFilter } from './all-exceptions.filter';
import { AppError } from './app-error';

describe('AllExceptionsFilter.toBody', () => {
  const filter = new AllExceptionsFilter();
  let logged: jest.SpyInstance;

  beforeEach(() => {
    logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  it('keeps the status, code and message of an AppError', () => {
    expect(filter.toBody(AppError.unknownSession('s1'))).toEqual({
      statusCode: 404,
      code: 'unknown_session',
      message: "Session 's1' does not exist",
    });
    expect(filter.toBody(new AppError('invalid_cursor', 'bad cursor'))).toEqual({
      statusCode: 400,
      code: 'invalid_cursor',
      message: 'bad cursor',
    });
    expect(logged).not.toHaveBeenCalled();
  });

  it('maps Nest HTTP exceptions to a code by status', () => {
    expect(filter.toBody(new NotFoundException('Cannot GET /nope'))).toEqual({
      statusCode: 404,
      code: 'not_found',
      message: 'Cannot GET /nope',
    });
    expect(filter.toBody(new UnauthorizedException())).toMatchObject({
      statusCode: 401,
      code: 'unauthorized',
    });
    expect(filter.toBody(new PayloadTooLargeException())).toMatchObject({
      statusCode: 413,
      code: 'payload_too_large',
    });
    expect(filter.toBody(new HttpException('slow down', HttpStatus.TOO_MANY_REQUESTS))).toEqual({
      statusCode: 429,
      code: 'http_error',
      message: 'slow down',
    });
  });

  it('answers a body parser error (413, 415, ...) with its status, without logging it', () => {
    const tooLarge = Object.assign(new Error('request entity too large'), {
      status: 413,
      statusCode: 413,
      expose: true,
      limit: 1024,
      type: 'entity.too.large',
    });
    expect(filter.toBody(tooLarge)).toEqual({
      statusCode: 413,
      code: 'payload_too_large',
      message: 'The request body is larger than 1024 bytes',
    });
    const charset = Object.assign(new Error('unsupported charset "UTF-7"'), {
      status: 415,
      expose: true,
    });
    expect(filter.toBody(charset)).toEqual({
      statusCode: 415,
      code: 'http_error',
      message: 'unsupported charset "UTF-7"',
    });
    expect(logged).not.toHaveBeenCalled();
  });

  it('still hides and logs a server-side error that carries a status', () => {
    const internal = Object.assign(new Error('secret detail'), { status: 500, expose: false });
    expect(filter.toBody(internal)).toMatchObject({ statusCode: 500, code: 'internal_error' });
    const unexposed = Object.assign(new Error('detail'), { status: 400 });
    expect(filter.toBody(unexposed)).toMatchObject({ statusCode: 500 });
    expect(logged).toHaveBeenCalledTimes(2);
  });

  it('joins the messages of a validation-style BadRequestException', () => {
    expect(filter.toBody(new BadRequestException(['a', 'b']))).toEqual({
      statusCode: 400,
      code: 'invalid_payload',
      message: 'a; b',
    });
  });

  it('answers an unexpected error with a bare 500 and logs it under the same id', () => {
    const body = filter.toBody(new Error('secret internals'));

    expect(body).toEqual({
      statusCode: 500,
      code: 'internal_error',
      message: expect.any(String),
      errorId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(body.message).not.toContain('secret internals');
    expect(body.message).toContain(body.errorId);
    expect(logged).toHaveBeenCalledTimes(1);
    expect(JSON.stringify(logged.mock.calls[0])).toContain(body.errorId);
  });

  it("writes the request's id on the error's line, to find the request it failed", () => {
    filter.toBody(new Error('x'), 'req-42');
    expect(logged.mock.calls[0][0]).toMatchObject({ reqId: 'req-42' });
  });

  it('gives every unexpected error its own id', () => {
    const first = filter.toBody(new Error('x'));
    const second = filter.toBody(new Error('x'));
    expect(first.errorId).not.toBe(second.errorId);
  });

  it('treats 5xx HTTP exceptions and thrown non-errors as unexpected', () => {
    expect(filter.toBody(new ServiceUnavailableException('db pool exhausted'))).toMatchObject({
      statusCode: 500,
      code: 'internal_error',
    });
    const body = filter.toBody('a thrown string');
    expect(body).toMatchObject({ statusCode: 500, code: 'internal_error' });
    expect(body.message).not.toContain('a thrown string');
  });
});
