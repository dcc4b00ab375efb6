import { applyDecorators, Controller } from '@nestjs/common';
import { ApiExtension, ApiTags } from '@nestjs/swagger';
import { ApiBearerToken, ApiInvalidInput } from '../common/errors/error-responses.decorators';
import type { DocumentTag } from '../common/http/openapi';
import { UNKNOWN_FIELDS_EXTENSION } from '../common/validation/request-validation.pipe';

/** The Swagger tag of the routes served for the hermes-studio web client. */
export const REFERENCE_API_TAG = 'hermes-studio compatible';

/** The tag with what the Swagger UI says about it. */
export const REFERENCE_API_DOC_TAG: DocumentTag = {
  name: REFERENCE_API_TAG,
  description:
    'The session and usage routes of the hermes-studio web client (EKKOLearnAI/hermes-studio), ' +
    'in its shapes, so that it works against this gateway unchanged. Same data and bearer ' +
    'token as `/api/sessions`; figures the gateway does not keep (costs, billing) are neutral. ' +
    "Parameters a route does not declare are ignored, as that client's own server ignored them.",
};

/**
 * A controller of the hermes-studio compatible routes: under `/api/hermes`, in their Swagger
 * tag, behind the bearer token like every other route, with the API's coded errors. Their
 * inputs ignore unknown fields (`@IgnoresUnknownFields()`), which the document says of each.
 */
export const ReferenceApiController = (): ClassDecorator =>
  applyDecorators(
    Controller('hermes'),
    ApiTags(REFERENCE_API_TAG),
    ApiBearerToken(),
    ApiInvalidInput(),
    ApiExtension(UNKNOWN_FIELDS_EXTENSION, 'ignored'),
  );
