import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsISO8601, IsOptional, IsString, Matches } from 'class-validator';
import { SCOPES, type Scope } from '../common/scopes';

/** POST /v1/tokens */
export class CreateTokenDto {
  @ApiProperty({ example: 'ci-deploy', description: 'Who or what uses it (1-64 of a-z 0-9 . _ -); unique among tokens not revoked; shown in the audit trail' })
  @IsString() @Matches(/^[a-z0-9][a-z0-9._-]{0,63}$/, { message: 'name must be 1-64 characters of a-z, 0-9, ".", "_", "-", starting with a letter or digit' })
  name!: string;

  @ApiProperty({ enum: SCOPES, isArray: true, example: ['read'], description: 'read; write (includes read); health:report; measurements:report; admin (everything, tokens and audit)' })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(SCOPES.length) @ArrayUnique() @IsIn(SCOPES, { each: true, message: `each scope must be one of ${SCOPES.join(', ')}` })
  scopes!: Scope[];

  @ApiPropertyOptional({ example: '2027-01-01T00:00:00Z', description: 'When it stops working (ISO 8601, in the future); none: until revoked' })
  @IsOptional() @IsISO8601({ strict: true })
  expiresAt?: string;
}

export interface TokenResponse {
  id: string;
  name: string;
  scopes: Scope[];
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  /** Usable now: neither revoked nor expired. */
  active: boolean;
}

/** The answer to a create: the only time the token itself is shown. */
export interface CreatedTokenResponse extends TokenResponse {
  token: string;
}
