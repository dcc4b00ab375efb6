/** A session with its counters, as the REST API and socket clients see it. */
export class SessionDto {
  id!: string;
  profile!: string;
  model!: string | null;
  title!: string | null;
  /** First user text, at most 100 characters on one line. */
  preview!: string | null;
  workspace!: string | null;
  /** Unix seconds. */
  created_at!: number;
  /** Unix seconds. */
  last_active!: number;
  message_count!: number;
  input_tokens!: number;
  output_tokens!: number;
  cache_read_tokens!: number;
  cache_write_tokens!: number;
  reasoning_tokens!: number;
}

export class SessionPageDto {
  items!: SessionDto[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor!: string | null;
}

export class SearchHitDto {
  session!: SessionDto;
  /** The newest matching message, or null when only the title or preview matched. */
  message_id!: number | null;
  snippet!: string;
}

export class SearchResultDto {
  hits!: SearchHitDto[];
}
