import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsNumber, IsObject, IsOptional, IsString, IsUrl,
  Matches, Max, MaxLength, Min, MinLength, ValidateNested,
} from 'class-validator';
import { IsCountryCode, IsEndpointIpv4, IsEndpointIpv6 } from '../../common/validation';

export const REGION_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A region's settings when the request leaves them out: the one place they are defined. */
export const REGION_DEFAULTS = { weight: 100, drained: false } as const;
/** A health check's settings when left out; timeoutMs defaults to half the interval, at most 5 s. */
export const HEALTH_CHECK_DEFAULTS = { intervalSeconds: 30, healthyThreshold: 3, unhealthyThreshold: 3, expectedStatus: '200-399', maxTimeoutMs: 5000 } as const;
/** An anycast site's AS-path prepending when left out. */
export const ANYCAST_DEFAULTS = { prepend: 0 } as const;

export class LocationDto {
  @ApiProperty({ example: 53.35, minimum: -90, maximum: 90 })
  @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(-90) @Max(90)
  latitude!: number;

  @ApiProperty({ example: -6.26, minimum: -180, maximum: 180 })
  @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(-180) @Max(180)
  longitude!: number;
}

export class EndpointsDto {
  @ApiPropertyOptional({ example: ['192.0.2.10'] })
  @IsOptional() @IsArray() @ArrayMaxSize(32) @IsEndpointIpv4()
  ipv4?: string[];

  @ApiPropertyOptional({ example: ['2001:db8:10::1'] })
  @IsOptional() @IsArray() @ArrayMaxSize(32) @IsEndpointIpv6()
  ipv6?: string[];

  @ApiPropertyOptional({ example: 'https://eu-west-1.app.example.com' })
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false, allow_underscores: false })
  @MaxLength(2000)
  baseUrl?: string;
}

/** What a dns health check may ask and expect (the types dns2 encodes). */
export const DNS_CHECK_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'NS', 'SOA', 'TXT', 'SRV', 'PTR', 'CAA'] as const;
export const DNS_CHECK_RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'] as const;

export class HealthCheckDto {
  @ApiProperty({ enum: ['http', 'https', 'tcp', 'dns'] })
  @IsIn(['http', 'https', 'tcp', 'dns'])
  type!: 'http' | 'https' | 'tcp' | 'dns';

  @ApiProperty({ example: 'https://eu-west-1.app.example.com/healthz', description: 'A URL for http/https, host:port for tcp and dns (the DNS endpoint to ask)' })
  @IsString() @MinLength(1) @MaxLength(2000)
  target!: string;

  @ApiPropertyOptional({ default: HEALTH_CHECK_DEFAULTS.intervalSeconds, minimum: 1, maximum: 3600 })
  @IsOptional() @IsInt() @Min(1) @Max(3600)
  intervalSeconds?: number;

  @ApiPropertyOptional({ default: HEALTH_CHECK_DEFAULTS.maxTimeoutMs, minimum: 100, maximum: 60000 })
  @IsOptional() @IsInt() @Min(100) @Max(60000)
  timeoutMs?: number;

  @ApiPropertyOptional({ default: HEALTH_CHECK_DEFAULTS.healthyThreshold, minimum: 1, maximum: 10 })
  @IsOptional() @IsInt() @Min(1) @Max(10)
  healthyThreshold?: number;

  @ApiPropertyOptional({ default: HEALTH_CHECK_DEFAULTS.unhealthyThreshold, minimum: 1, maximum: 10 })
  @IsOptional() @IsInt() @Min(1) @Max(10)
  unhealthyThreshold?: number;

  @ApiPropertyOptional({ default: HEALTH_CHECK_DEFAULTS.expectedStatus, description: 'Status codes and ranges, e.g. "200-299,304"' })
  @IsOptional() @IsString() @Matches(/^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/)
  expectedStatus?: string;

  @ApiPropertyOptional({ description: 'A substring that must appear in the first 64 KiB of the body' })
  @IsOptional() @IsString() @MinLength(1) @MaxLength(1000)
  bodyContains?: string;

  @ApiPropertyOptional({ default: false, description: 'https only: skip certificate validation' })
  @IsOptional() @IsBoolean()
  insecureSkipVerify?: boolean;

  @ApiPropertyOptional({ example: 'app.example.com', description: 'dns only (required there): the name to ask' })
  @IsOptional() @IsString() @MinLength(1) @MaxLength(253)
  queryName?: string;

  @ApiPropertyOptional({ enum: DNS_CHECK_TYPES, default: 'A', description: 'dns only' })
  @IsOptional() @IsIn(DNS_CHECK_TYPES)
  queryType?: (typeof DNS_CHECK_TYPES)[number];

  @ApiPropertyOptional({ enum: ['udp', 'tcp'], default: 'udp', description: 'dns only' })
  @IsOptional() @IsIn(['udp', 'tcp'])
  transport?: 'udp' | 'tcp';

  @ApiPropertyOptional({ enum: DNS_CHECK_RCODES, default: 'NOERROR', description: 'dns only: the RCODE a healthy endpoint answers' })
  @IsOptional() @IsIn(DNS_CHECK_RCODES)
  expectRcode?: (typeof DNS_CHECK_RCODES)[number];

  @ApiPropertyOptional({ example: '^198\\.51\\.100\\.', description: 'dns only: a regular expression one answer record\'s data must match' })
  @IsOptional() @IsString() @MinLength(1) @MaxLength(200)
  answerPattern?: string;
}

export class AnycastDto {
  @ApiProperty({ example: 64500 })
  @IsInt() @Min(1) @Max(4294967295)
  originAsn!: number;

  @ApiProperty({ example: [3356, 1299] })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(64) @IsInt({ each: true }) @Min(1, { each: true }) @Max(4294967295, { each: true })
  upstreams!: number[];

  @ApiPropertyOptional({ default: ANYCAST_DEFAULTS.prepend, minimum: 0, maximum: 10 })
  @IsOptional() @IsInt() @Min(0) @Max(10)
  prepend?: number;
}

export class CreateRegionDto {
  @ApiProperty({ example: 'eu-west-1', pattern: REGION_NAME.source })
  @IsString() @Matches(REGION_NAME, { message: 'name must be 1-63 lower-case letters, digits and inner hyphens' })
  name!: string;

  @ApiProperty({ example: 'IE' })
  @IsCountryCode()
  countryCode!: string;

  @ApiProperty({ type: LocationDto })
  @IsObject() @ValidateNested() @Type(() => LocationDto)
  location!: LocationDto;

  @ApiProperty({ type: EndpointsDto })
  @IsObject() @ValidateNested() @Type(() => EndpointsDto)
  endpoints!: EndpointsDto;

  @ApiPropertyOptional({ default: REGION_DEFAULTS.weight, minimum: 0, maximum: 1000 })
  @IsOptional() @IsInt() @Min(0) @Max(1000)
  weight?: number;

  @ApiPropertyOptional({ default: REGION_DEFAULTS.drained })
  @IsOptional() @IsBoolean()
  drained?: boolean;

  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 0, maximum: 1_000_000_000 })
  @IsOptional() @IsInt() @Min(0) @Max(1_000_000_000)
  capacity?: number | null;

  @ApiPropertyOptional({ type: HealthCheckDto, nullable: true })
  @IsOptional() @IsObject() @ValidateNested() @Type(() => HealthCheckDto)
  healthCheck?: HealthCheckDto | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 5, maximum: 86400 })
  @IsOptional() @IsInt() @Min(5) @Max(86400)
  heartbeatTimeoutSeconds?: number | null;

  @ApiPropertyOptional({ type: String, nullable: true, minLength: 16, maxLength: 256, writeOnly: true, description: 'Secret for signed health webhooks (whsec_<base64> or 16+ characters); never returned' })
  @IsOptional() @IsString() @MinLength(16) @MaxLength(256)
  webhookSecret?: string | null;

  @ApiPropertyOptional({ type: AnycastDto, nullable: true })
  @IsOptional() @IsObject() @ValidateNested() @Type(() => AnycastDto)
  anycast?: AnycastDto | null;
}

export class UpdateRegionDto extends PartialType(OmitType(CreateRegionDto, ['name'] as const)) {}

export interface RegionResponse {
  name: string;
  countryCode: string;
  jurisdiction: string;
  location: { latitude: number; longitude: number };
  endpoints: { ipv4: string[]; ipv6: string[]; baseUrl: string | null };
  weight: number;
  drained: boolean;
  capacity: number | null;
  healthCheck: Record<string, unknown> | null;
  heartbeatTimeoutSeconds: number | null;
  webhookSecretSet: boolean;
  anycast: { originAsn: number; upstreams: number[]; prepend: number } | null;
  health: { status: string; since: string | null; reason: string | null };
  createdAt: string;
  updatedAt: string;
}
