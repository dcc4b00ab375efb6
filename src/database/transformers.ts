import { ValueTransformer } from 'typeorm';

/** PostgreSQL returns BIGINT as a string; token totals are safely within Number's range. */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};

/** Column options of a BIGINT NOT NULL DEFAULT 0 counter, read back as a number (tokens, seqs). */
export const counterColumn = (name: string) =>
  ({ name, type: 'bigint', default: 0, transformer: bigintAsNumber }) as const;
