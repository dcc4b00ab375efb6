import { Module } from '@nestjs/common';
import { TokenCounter } from './token-counter';

/** Kept apart from compression so that storage can count tokens without depending on it. */
@Module({ providers: [TokenCounter], exports: [TokenCounter] })
export class TokenCounterModule {}
