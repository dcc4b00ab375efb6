import { saneRequestId } from './request-id';

describe('saneRequestId', () => {
  it('takes printable ASCII up to 128 characters as it is', () => {
    expect(saneRequestId('abc-123')).toBe('abc-123');
    expect(saneRequestId('trace=1; span "x"')).toBe('trace=1; span "x"');
    expect(saneRequestId('x'.repeat(128))).toBe('x'.repeat(128));
  });

  it('refuses anything else', () => {
    expect(saneRequestId(undefined)).toBeUndefined();
    expect(saneRequestId('')).toBeUndefined();
    expect(saneRequestId('x'.repeat(129))).toBeUndefined();
    expect(saneRequestId('caf\u00e9')).toBeUndefined();
    expect(saneRequestId('a\tb')).toBeUndefined();
    expect(saneRequestId('a\u0000b')).toBeUndefined();
    expect(saneRequestId(['a', 'b'])).toBeUndefined();
  });
});
