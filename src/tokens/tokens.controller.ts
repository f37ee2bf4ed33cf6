import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { AuthenticatedRequest } from '../common/auth.guard';
import { parsePageQuery } from '../common/paging';
import { RequireScope } from '../common/scopes';
import { CreateTokenDto } from './token.dto';
import { TokensService } from './tokens.service';

/** API tokens (scope `admin`). The token is in the create answer only; listed tokens show everything else. */
@ApiTags('tokens')
@ApiBearerAuth()
@RequireScope('admin')
@Controller('v1/tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Post() @HttpCode(201)
  create(@Body() dto: CreateTokenDto, @Req() req: AuthenticatedRequest) { return this.tokens.create(dto, req.principal!); }

  @Get()
  list(@Query() q: Record<string, unknown>) { return this.tokens.list(parsePageQuery(q)); }

  @Get(':id')
  get(@Param('id') id: string) { return this.tokens.get(id); }

  @Delete(':id') @HttpCode(204)
  revoke(@Param('id') id: string) { return this.tokens.revoke(id); }
}
