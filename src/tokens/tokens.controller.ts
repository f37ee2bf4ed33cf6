import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiContract, PAGE_PARAMETERS } from '../common/openapi';
import { CREATED_TOKEN, CREATED_TOKEN_EXAMPLE, TOKEN, TOKEN_EXAMPLE, TOKENS_PAGE } from './tokens.openapi';
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
  @ApiContract({ summary: 'Create an API token (the token is in this answer only)', status: 201, schema: CREATED_TOKEN, example: CREATED_TOKEN_EXAMPLE, errors: [400, 409, 413, 503], errorText: { 409: 'A token of that name exists' } })
  create(@Body() dto: CreateTokenDto, @Req() req: AuthenticatedRequest) { return this.tokens.create(dto, req.principal!); }

  @Get()
  @ApiContract({ summary: 'List API tokens (paged; never the tokens themselves)', status: 200, schema: TOKENS_PAGE, example: { items: [TOKEN_EXAMPLE], nextCursor: null }, errors: [400, 503] })
  @ApiQuery(PAGE_PARAMETERS[0]) @ApiQuery(PAGE_PARAMETERS[1])
  list(@Query() q: Record<string, unknown>) { return this.tokens.list(parsePageQuery(q)); }

  @Get(':id')
  @ApiParam({ name: 'id', example: '5ec288f71f6ef541' })
  @ApiContract({ summary: 'Get an API token', status: 200, schema: TOKEN, example: TOKEN_EXAMPLE, errors: [404, 503] })
  get(@Param('id') id: string) { return this.tokens.get(id); }

  @Delete(':id') @HttpCode(204)
  @ApiParam({ name: 'id', example: '5ec288f71f6ef541' })
  @ApiContract({ summary: 'Revoke an API token (at once, on every instance)', status: 204, errors: [404, 503] })
  revoke(@Param('id') id: string) { return this.tokens.revoke(id); }
}
