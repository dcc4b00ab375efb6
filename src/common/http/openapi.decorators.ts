import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/**
 * What the Swagger CLI plugin cannot tell from a DTO property. TypeScript has one `number`, so
 * the plugin documents every count, id and time alike as `type: number`; these decorators say
 * which kind of number it is and give the example the docs show. The plugin still adds what it
 * does infer (the description from JSDoc, `required`, `nullable`, the default from the
 * initializer and the bounds of class-validator's `@Min`/`@Max`).
 */
export interface IntegerOptions {
  example: number;
  minimum?: number;
  maximum?: number;
}

/** A whole number: a count, a token figure, an id. */
export const ApiInteger = (options: IntegerOptions): PropertyDecorator =>
  ApiProperty({ type: 'integer', ...options });

/** An optional whole number, e.g. a query parameter with a default. */
export const ApiOptionalInteger = (options: IntegerOptions): PropertyDecorator =>
  ApiPropertyOptional({ type: 'integer', ...options });

/**
 * A time in unix seconds. A real number, not an integer: stored times keep their fraction
 * (`Date.now() / 1000`). null for a time the gateway never sets.
 */
export const ApiUnixSeconds = (example: number | null): PropertyDecorator =>
  ApiProperty({ type: 'number', format: 'double', example });
