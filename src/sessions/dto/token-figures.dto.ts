import { ApiInteger } from '../../common/http/openapi.decorators';

/** The token figures the upstream reports, summed: of a session, a run, a model or a period. */
export class TokenFiguresDto {
  @ApiInteger({ example: 48210 })
  input_tokens!: number;

  @ApiInteger({ example: 6342 })
  output_tokens!: number;

  @ApiInteger({ example: 31877 })
  cache_read_tokens!: number;

  @ApiInteger({ example: 9120 })
  cache_write_tokens!: number;

  @ApiInteger({ example: 1288 })
  reasoning_tokens!: number;
}
