import { Matches } from 'class-validator';
import { ID_PATTERN, ID_RULE } from './ids';

export class SessionIdParamDto {
  @Matches(ID_PATTERN, { message: `id ${ID_RULE}` })
  id!: string;
}
