/**
 * A Hermes profile's name: what the profiles file may define, and so what every route and DTO
 * that takes a profile accepts (a name no file could define is refused the same way everywhere).
 */
export const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export const PROFILE_NAME_MESSAGE = 'profile must be a profile name (A-Z a-z 0-9 _ . -, up to 64)';
