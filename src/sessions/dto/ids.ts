/** Session and queue ids: short, printable, safe in a URL path and a room name. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const ID_RULE = 'must be 1-128 characters of letters, digits, ".", "_", ":" or "-"';
