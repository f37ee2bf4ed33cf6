import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Matches } from 'class-validator';
import { REGION_NAME } from '../registry/dto/region.dto';

/** POST /v1/services/{fqdn}/promote */
export class PromoteDto {
  @ApiProperty({ example: 'eu-central-1', description: 'The replica to make the primary' })
  @IsString() @Matches(REGION_NAME, { message: 'region must be a region name' })
  region!: string;

  @ApiPropertyOptional({
    default: false,
    description: 'Promote even when the replica lags beyond maxStalenessMs, has no fresh lag report, is unhealthy, or (GDPR) is in another jurisdiction',
  })
  @IsOptional() @IsBoolean()
  force?: boolean;
}
