import type { SerializedRequest } from 'pino';

/** Field names that hold a secret wherever they appear in a logged object. */
const SECRET_FIELDS = ['token', 'apiKey', 'api_key', 'authorization', 'password'];

/**
 * Paths that may hold secrets; pino replaces their values before a line is written. pino's `*`
 * matches one level only, so each secret field is named at the top of a line (an object logged
 * as the message is merged there), one level down, and in the extra arguments (`details`).
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
  ...SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `details[*].${field}`]),
];

export const CENSOR = '[redacted]';

/** Query parameters that carry credentials (`?token=`, `?access_token=`, `?api_key=`, ...). */
const SECRET_PARAM = /token|secret|password|api[-_]?key/i;
/** Headers that carry credentials, whatever a client or proxy calls them. */
const SECRET_HEADER = /authorization|cookie|token|secret|password|api[-_]?key|idempotency-key/i;

/**
 * Takes credentials out of a request before it is logged: paths cannot reach inside the URL
 * string, and a header or query parameter may have any name, so the request serializer
 * redacts by name, in the URL, the parsed query and the headers. It builds new objects: the
 * serialized request shares `headers` with the live one.
 */
export function redactRequest(request: SerializedRequest): SerializedRequest {
  if (typeof request.url === 'string') {
    request.url = request.url.replace(
      /([?&])([^=&#]*)=([^&#]*)/g,
      (param: string, separator: string, name: string) =>
        SECRET_PARAM.test(decodedName(name)) ? `${separator}${name}=${CENSOR}` : param,
    );
  }
  // Typed as always there; a request that never went through Express's query parser has none.
  const query: unknown = request.query;
  if (typeof query === 'object' && query !== null) {
    request.query = redactByName(request.query, SECRET_PARAM);
  }
  const headers: unknown = request.headers;
  if (typeof headers === 'object' && headers !== null) {
    request.headers = redactByName(request.headers, SECRET_HEADER);
  }
  return request;
}

function redactByName(values: Record<string, string>, secret: RegExp): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([name, value]) => [name, secret.test(name) ? CENSOR : value]),
  );
}

/** `%74oken` is `token` too; a name that is not valid percent-encoding is taken as it is. */
function decodedName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch (error) {
    if (error instanceof URIError) return name;
    throw error;
  }
}
