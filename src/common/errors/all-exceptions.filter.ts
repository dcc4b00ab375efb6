import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { REQUEST_ID_FIELD, requestIdOf } from '../../logging/request-id';
import { AppError, ErrorCode } from './app-error';

export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  message: string;
  errorId?: string;
}

const CODE_BY_STATUS: Partial<Record<number, ErrorCode>> = {
  [HttpStatus.BAD_REQUEST]: 'invalid_payload',
  [HttpStatus.UNAUTHORIZED]: 'unauthorized',
  [HttpStatus.NOT_FOUND]: 'not_found',
  [HttpStatus.CONFLICT]: 'conflict',
  [HttpStatus.PAYLOAD_TOO_LARGE]: 'payload_too_large',
  [HttpStatus.METHOD_NOT_ALLOWED]: 'method_not_allowed',
};

/**
 * The one place where REST errors become JSON. Expected errors keep their code; anything
 * unexpected is logged with an id (and the request's id, to find its request line) and answered
 * as a bare 500 without internals.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const body = this.toBody(exception, requestIdOf(http.getRequest<Request>()));
    if (!response.headersSent) response.status(body.statusCode).json(body);
    else response.end();
  }

  /** `requestId`: the id of the request that failed, written on the error's log line. */
  toBody(exception: unknown, requestId?: string): ErrorBody {
    if (exception instanceof AppError) {
      return { statusCode: exception.status, code: exception.code, message: exception.message };
    }
    const clientError = exposedHttpError(exception);
    if (clientError) return clientError;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status < 500) {
        return {
          statusCode: status,
          code: CODE_BY_STATUS[status] ?? 'http_error',
          message: messageOf(exception),
        };
      }
    }
    const errorId = randomUUID();
    this.logger.error(
      {
        errorId,
        ...(requestId === undefined ? {} : { [REQUEST_ID_FIELD]: requestId }),
        err: exception,
      },
      `Unexpected error ${errorId}: ${exception instanceof Error ? exception.message : String(exception)}`,
    );
    return {
      statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
      code: 'internal_error',
      message: `Internal server error (id ${errorId})`,
      errorId,
    };
  }
}

function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : exception.message;
}

/**
 * A client error raised before routing by the body parser (an `http-errors` error marked
 * `expose`: a body over the limit, a bad charset or encoding, an aborted upload): answered with
 * its status, not logged.
 */
function exposedHttpError(exception: unknown): ErrorBody | undefined {
  if (!(exception instanceof Error)) return undefined;
  const { status, expose, limit } = exception as {
    status?: unknown;
    expose?: unknown;
    limit?: unknown;
  };
  if (expose !== true || typeof status !== 'number' || status < 400 || status >= 500)
    return undefined;
  const message =
    status === (HttpStatus.PAYLOAD_TOO_LARGE as number) && typeof limit === 'number'
      ? `The request body is larger than ${limit} bytes`
      : exception.message;
  return { statusCode: status, code: CODE_BY_STATUS[status] ?? 'http_error', message };
}
