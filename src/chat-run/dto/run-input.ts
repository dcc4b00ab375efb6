import { AppError } from '../../common/errors/app-error';
import type { ContentBlock } from '../../content/content-blocks';
import { ContentBlocksDto } from './socket-payloads.dto';
import { validatePayload } from './validate-payload';

/**
 * `input` is a non-empty string or a non-empty array of valid blocks, at most `maxBytes` of
 * UTF-8. The size is checked before anything else touches the text.
 */
export function parseRunInput(input: unknown, maxBytes: number): string | ContentBlock[] {
  if (typeof input === 'string') {
    if (input.trim().length === 0) throw AppError.invalidPayload('input must not be empty');
    assertSize(Buffer.byteLength(input, 'utf8'), maxBytes);
    return input;
  }
  if (!Array.isArray(input)) {
    throw AppError.invalidPayload('input must be a string or an array of content blocks');
  }
  const { blocks } = validatePayload(ContentBlocksDto, { blocks: input });
  let bytes = 0;
  for (const block of blocks) {
    bytes +=
      Buffer.byteLength(block.text ?? '', 'utf8') + Buffer.byteLength(block.path ?? '', 'utf8');
  }
  assertSize(bytes, maxBytes);
  return blocks.map((block): ContentBlock => {
    if (block.type === 'text') return { type: 'text', text: block.text ?? '' };
    if (block.type === 'image') {
      return {
        type: 'image',
        name: block.name ?? '',
        path: block.path ?? '',
        media_type: block.media_type ?? '',
      };
    }
    return {
      type: 'file',
      name: block.name ?? '',
      path: block.path ?? '',
      ...(block.media_type ? { media_type: block.media_type } : {}),
    };
  });
}

function assertSize(bytes: number, maxBytes: number): void {
  if (bytes > maxBytes) {
    throw new AppError('input_too_large', `input is ${bytes} bytes; the limit is ${maxBytes}`, 413);
  }
}
