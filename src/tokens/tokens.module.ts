import { Module } from '@nestjs/common';
import { TokensController } from './tokens.controller';
import { TokensRepository } from './tokens.repository';
import { TokensService } from './tokens.service';

/** Scoped API tokens (`/v1/tokens`); app.module.ts binds the guard's TokenVerifier port to TokensService. */
@Module({ controllers: [TokensController], providers: [TokensRepository, TokensService], exports: [TokensService] })
export class TokensModule {}
