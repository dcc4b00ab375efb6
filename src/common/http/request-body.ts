import { json, urlencoded } from 'body-parser';
import type { IncomingMessage } from 'node:http';
import type { HttpSettings } from '../../config/app-config';
import { AppError } from '../errors/app-error';
import { exceedsJsonDepth } from '../json/json-depth';

type BodyLimits = Pick<HttpSettings, 'maxBodyBytes' | 'maxJsonDepth'>;

/**
 * The REST body parsers, bounded before a body costs anything: one over `maxBodyBytes` is
 * refused from its Content-Length (or as soon as it streams past the limit), answered 413; a
 * JSON body nested deeper than `maxJsonDepth` is refused before it is parsed, answered 400
 * (parsing it, and then validating it, which recurses through every level, is what costs).
 * Both reach the exception filter as coded client errors, before authentication and routing.
 *
 * They replace Nest's default parsers (Nest skips its own when these are already mounted).
 */
export function bodyParsers(limits: BodyLimits): ReturnType<typeof json>[] {
  return [
    json({ limit: limits.maxBodyBytes, verify: refuseDeepJson(limits.maxJsonDepth) }),
    urlencoded({ extended: true, limit: limits.maxBodyBytes }),
  ];
}

function refuseDeepJson(maxDepth: number) {
  return (_request: IncomingMessage, _response: unknown, body: Buffer): void => {
    // latin1 keeps one character per byte, so the scan needs no UTF-8 decoding.
    if (exceedsJsonDepth(body.toString('latin1'), maxDepth)) {
      throw AppError.invalidPayload(`The JSON body nests deeper than ${maxDepth} levels`);
    }
  };
}
