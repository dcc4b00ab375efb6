/** Session and queue ids: short, printable, safe in a URL path and a room name. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const ID_RULE = 'must be 1-128 characters of letters, digits, ".", "_", ":" or "-"';

/** The session id the API docs show (a generated id is a UUID). */
export const SESSION_ID_EXAMPLE = '3f2b8c1e-7d4a-4e9b-9a61-2c5d8e0f1a7b';
