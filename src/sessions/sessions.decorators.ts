import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, getSchemaPath } from '@nestjs/swagger';
import { ApiCodedError } from '../common/errors/error-responses.decorators';
import { SESSION_ID_EXAMPLE } from './dto/ids';
import { SessionExportDto } from './dto/session.response.dto';

/** The 404 of a route whose session does not exist, shared by every route that answers it. */
export const ApiUnknownSession = (description = 'No such session'): MethodDecorator =>
  ApiCodedError(404, description, {
    code: 'unknown_session',
    message: `Session '${SESSION_ID_EXAMPLE}' does not exist`,
  });

const MARKDOWN_EXAMPLE = [
  '# Refactor the billing service',
  '',
  `- Session: \`${SESSION_ID_EXAMPLE}\``,
  '- Profile: default',
  '- Created: 2026-01-12T09:30:00.000Z',
  '',
  '## User · 2026-01-12T09:30:00.000Z',
  '',
  'Split the invoice module out of billing/service.py and keep the tests green',
  '',
].join('\n');

/**
 * The answers of a session download (see session-export.ts): the JSON document, or the Markdown
 * rendering served as `textType`; 404 for a session that does not exist.
 */
export const ApiSessionExport = (textType: 'text/markdown' | 'text/plain'): MethodDecorator =>
  applyDecorators(
    ApiExtraModels(SessionExportDto),
    ApiOkResponse({
      description: 'The session and its whole transcript, as a file named after the session',
      content: {
        'application/json': { schema: { $ref: getSchemaPath(SessionExportDto) } },
        [textType]: { schema: { type: 'string', example: MARKDOWN_EXAMPLE } },
      },
    }),
    ApiUnknownSession(),
  );
