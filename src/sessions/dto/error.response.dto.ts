/** Every error answer of the REST API. */
export class ErrorResponseDto {
  statusCode!: number;
  /** Stable machine-readable code, e.g. `invalid_payload`, `unknown_session`, `unauthorized`. */
  code!: string;
  message!: string;
}
