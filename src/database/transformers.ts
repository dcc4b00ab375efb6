import { ValueTransformer } from 'typeorm';

/** PostgreSQL returns BIGINT as a string; token totals are safely within Number's range. */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};
