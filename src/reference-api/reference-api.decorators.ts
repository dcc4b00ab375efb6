import { applyDecorators, Controller } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ErrorResponseDto } from '../sessions/dto/error.response.dto';

/** The Swagger tag of the routes served for the hermes-studio web client. */
export const REFERENCE_API_TAG = 'hermes-studio compatible';

/**
 * A controller of the hermes-studio compatible routes: under `/api/hermes`, in their Swagger
 * tag, behind the bearer token like every other route, with the API's coded errors.
 */
export const ReferenceApiController = (): ClassDecorator =>
  applyDecorators(
    Controller('hermes'),
    ApiTags(REFERENCE_API_TAG),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({
      type: ErrorResponseDto,
      description: 'Missing or wrong bearer token',
    }),
    ApiBadRequestResponse({
      type: ErrorResponseDto,
      description: 'Invalid input; the message names the field',
    }),
  );
