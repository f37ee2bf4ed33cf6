import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';

export class EnableDnssecDto {
  @ApiPropertyOptional({ enum: [13, 15], default: 13, description: '13 = ECDSA P-256 with SHA-256 (RFC 6605), 15 = Ed25519 (RFC 8080)' })
  @IsOptional() @IsIn([13, 15])
  algorithm?: 13 | 15;

  @ApiPropertyOptional({ enum: ['csk', 'ksk-zsk'], default: 'csk', description: 'one combined signing key, or a key-signing key plus a zone-signing key' })
  @IsOptional() @IsIn(['csk', 'ksk-zsk'])
  keys?: 'csk' | 'ksk-zsk';
}

export class RolloverDto {
  @ApiPropertyOptional({ enum: ['csk', 'ksk', 'zsk'], description: 'the key to roll: default the CSK, or the ZSK of a KSK+ZSK zone' })
  @IsOptional() @IsIn(['csk', 'ksk', 'zsk'])
  key?: 'csk' | 'ksk' | 'zsk';
}
