import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { IsDomainName } from '../../common/validation';

export const RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'TXT', 'MX', 'NS', 'CAA', 'SRV', 'HTTPS', 'SVCB', 'TLSA', 'PTR', 'NAPTR', 'DS'] as const;

/** A zone's SOA timers when the request leaves them out: the one place they are defined. */
export const ZONE_DEFAULTS = { ttl: 3600, refresh: 3600, retry: 600, expire: 604800, negativeTtl: 300 } as const;
/** A record's TTL when the request leaves it out. */
export const RECORD_DEFAULTS = { ttl: 300 } as const;

export class CreateZoneDto {
  @ApiProperty({ example: 'example.com' })
  @IsString()
  @IsDomainName()
  name!: string;

  @ApiProperty({ example: ['ns1.example.com', 'ns2.example.com'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(13)
  @IsDomainName()
  nameservers!: string[];

  @ApiProperty({ example: 'hostmaster.example.com', description: 'SOA RNAME as a domain name' })
  @IsString()
  @IsDomainName()
  hostmaster!: string;

  @ApiPropertyOptional({ default: ZONE_DEFAULTS.ttl, minimum: 60, maximum: 86400 })
  @IsOptional() @IsInt() @Min(60) @Max(86400)
  ttl?: number;

  @ApiPropertyOptional({ default: ZONE_DEFAULTS.refresh, minimum: 60, maximum: 86400 })
  @IsOptional() @IsInt() @Min(60) @Max(86400)
  refresh?: number;

  @ApiPropertyOptional({ default: ZONE_DEFAULTS.retry, minimum: 60, maximum: 86400 })
  @IsOptional() @IsInt() @Min(60) @Max(86400)
  retry?: number;

  @ApiPropertyOptional({ default: ZONE_DEFAULTS.expire, minimum: 3600, maximum: 2419200 })
  @IsOptional() @IsInt() @Min(3600) @Max(2419200)
  expire?: number;

  @ApiPropertyOptional({ default: ZONE_DEFAULTS.negativeTtl, minimum: 0, maximum: 86400, description: 'SOA MINIMUM: TTL of negative answers (RFC 2308)' })
  @IsOptional() @IsInt() @Min(0) @Max(86400)
  negativeTtl?: number;
}

export class UpdateZoneDto extends PartialType(OmitType(CreateZoneDto, ['name'] as const)) {}

export class CreateRecordDto {
  @ApiProperty({ example: 'www', description: 'Relative to the zone, "@" for the apex, or fully qualified inside the zone' })
  @IsString()
  @MaxLength(253)
  name!: string;

  @ApiProperty({ enum: RECORD_TYPES })
  @IsIn(RECORD_TYPES as unknown as string[])
  type!: (typeof RECORD_TYPES)[number];

  @ApiPropertyOptional({ default: RECORD_DEFAULTS.ttl, minimum: 1, maximum: 86400 })
  @IsOptional() @IsInt() @Min(1) @Max(86400)
  ttl?: number;

  @ApiProperty({ example: ['192.0.2.10'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(4000, { each: true })
  values!: string[];
}

export interface ZoneResponse {
  name: string;
  nameservers: string[];
  hostmaster: string;
  ttl: number;
  refresh: number;
  retry: number;
  expire: number;
  negativeTtl: number;
  serial: number;
  createdAt: string;
  updatedAt: string;
}

export interface RecordResponse {
  id: string;
  zone: string;
  name: string;
  fqdn: string;
  type: string;
  ttl: number;
  values: string[];
}
