import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsInt, IsObject, IsOptional, IsString, Max, Min } from 'class-validator';
import { IsDomainName } from '../../common/validation';

export const POLICIES = ['proximity', 'failover', 'weighted', 'geolocation'] as const;

export class CreateServiceDto {
  @ApiProperty({ example: 'app.example.com' })
  @IsString() @IsDomainName()
  fqdn!: string;

  @ApiPropertyOptional({ enum: POLICIES, default: 'proximity' })
  @IsOptional() @IsIn(POLICIES as unknown as string[])
  policy?: (typeof POLICIES)[number];

  @ApiProperty({ example: ['eu-west-1', 'us-east-1'], description: 'Ordered: the failover order' })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(64) @ArrayUnique() @IsString({ each: true })
  regions!: string[];

  @ApiPropertyOptional({
    example: { DE: ['eu-central-1'], 'continent:EU': ['eu-west-1'], '*': ['us-east-1'] },
    description: 'Keys: ISO country code, "continent:XX" (AF AN AS EU NA OC SA) or "*"; values: regions of this service',
  })
  @IsOptional() @IsObject()
  geolocation?: Record<string, string[]> | null;

  @ApiPropertyOptional({ default: 30, minimum: 1, maximum: 86400 })
  @IsOptional() @IsInt() @Min(1) @Max(86400)
  ttl?: number;

  @ApiPropertyOptional({ enum: ['gdpr', 'none'], default: 'gdpr' })
  @IsOptional() @IsIn(['gdpr', 'none'])
  residency?: 'gdpr' | 'none';

  @ApiPropertyOptional({ enum: ['route', 'treat-as-eu'], default: 'route' })
  @IsOptional() @IsIn(['route', 'treat-as-eu'])
  unknownLocation?: 'route' | 'treat-as-eu';

  @ApiPropertyOptional({ enum: ['fail-open', 'fail-closed'], default: 'fail-open' })
  @IsOptional() @IsIn(['fail-open', 'fail-closed'])
  whenAllUnhealthy?: 'fail-open' | 'fail-closed';

  @ApiPropertyOptional({ default: 1, minimum: 1, maximum: 8 })
  @IsOptional() @IsInt() @Min(1) @Max(8)
  answerCount?: number;
}

export class UpdateServiceDto extends PartialType(OmitType(CreateServiceDto, ['fqdn'] as const)) {}

export interface ServiceView {
  fqdn: string;
  zone: string;
  policy: string;
  regions: string[];
  geolocation: Record<string, string[]> | null;
  ttl: number;
  residency: string;
  unknownLocation: string;
  whenAllUnhealthy: string;
  answerCount: number;
  createdAt: string;
  updatedAt: string;
}
