import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/**
 * What the Swagger CLI plugin cannot tell from a DTO property. TypeScript has one `number`, so
 * the plugin documents every count, id and time as `type: number`; these decorators say it is a
 * whole number and give the example the docs show. The plugin still adds what it does infer
 * (the description from JSDoc, `required`, `nullable`, the default from the initializer and
 * the bounds of class-validator's `@Min`/`@Max`).
 */
export interface IntegerOptions {
  /** null for a field that is always null today (a figure the gateway does not keep). */
  example: number | null;
  minimum?: number;
  maximum?: number;
}

/** A whole number (a count, a token figure, an id, a time in unix seconds). */
export const ApiInteger = (options: IntegerOptions): PropertyDecorator =>
  ApiProperty({ type: 'integer', ...options });

/** An optional whole number, e.g. a query parameter with a default. */
export const ApiOptionalInteger = (options: IntegerOptions): PropertyDecorator =>
  ApiPropertyOptional({ type: 'integer', ...options });
