import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsInt, IsObject, IsOptional, IsString, IsUrl, Matches, Max, MaxLength, Min, MinLength,
  ValidateNested,
} from 'class-validator';
import { IsDomainName } from '../../common/validation';
import {
  CONFLICT_RESOLUTIONS, DEFAULT_PROMOTION, DEFAULT_PROMOTION_DELAY_SECONDS, MAX_PROMOTION_DELAY_SECONDS, MAX_STALENESS_MS, PROMOTION_MODES,
  REPLICATION_MODES,
} from '../../routing/replication';
import type { ConflictResolution, PromotionMode, ReplicationMode } from '../../routing/types';
import type { ReplicationConfig, ServiceEntity } from '../service.entity';
import { REGION_NAME } from './region.dto';

export const POLICIES = ['proximity', 'failover', 'weighted', 'geolocation', 'latency'] as const;

/**
 * A service's own settings: copied as given on create and PATCH, returned and exported as stored.
 * Adding one takes a column in service.entity.ts (with its migration), a property of
 * CreateServiceDto, its name here and, when it has one, its default in SERVICE_DEFAULTS.
 */
export const SERVICE_SETTINGS = [
  'policy', 'regions', 'geolocation', 'ttl', 'residency', 'unknownLocation', 'whenAllUnhealthy', 'answerCount',
] as const satisfies readonly (keyof CreateServiceDto & keyof ServiceEntity)[];
export type ServiceSettings = Pick<ServiceEntity, (typeof SERVICE_SETTINGS)[number]>;

/** A service's settings when the request leaves them out: the one place they are defined. */
export const SERVICE_DEFAULTS = {
  policy: 'proximity', geolocation: null, ttl: 30, residency: 'gdpr', unknownLocation: 'route', whenAllUnhealthy: 'fail-open', answerCount: 1,
} as const satisfies Omit<ServiceSettings, 'regions'>;

/** The settings of a new service: those `given` names, the defaults for the rest. */
export function withServiceDefaults(given: { readonly [K in keyof ServiceSettings]?: ServiceSettings[K] | null }): ServiceSettings {
  const defaults: Partial<ServiceSettings> = SERVICE_DEFAULTS;
  return Object.fromEntries(SERVICE_SETTINGS.map((key) => [key, given[key] ?? defaults[key]])) as unknown as ServiceSettings;
}

/** The settings a PATCH names (undefined: left alone; null is a value). */
export function givenServiceSettings(given: { readonly [K in keyof ServiceSettings]?: ServiceSettings[K] | null }): Partial<ServiceSettings> {
  return Object.fromEntries(SERVICE_SETTINGS.filter((key) => given[key] !== undefined).map((key) => [key, given[key]]));
}

/** The stored settings of a service, in SERVICE_SETTINGS order. */
export function serviceSettingsOf(s: ServiceSettings): ServiceSettings {
  return Object.fromEntries(SERVICE_SETTINGS.map((key) => [key, s[key]])) as unknown as ServiceSettings;
}

/** How the service's data is replicated (README "Replication-aware routing"); the whole object is replaced on PATCH. */
export class ReplicationDto {
  @ApiProperty({ enum: REPLICATION_MODES })
  @IsIn(REPLICATION_MODES as unknown as string[])
  mode!: ReplicationMode;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'eu-west-1', description: 'active-passive (required): the region that takes every write; one of the service regions. Changed afterwards only by a promotion.' })
  @IsOptional() @IsString() @Matches(REGION_NAME, { message: 'primary must be a region name' })
  primary?: string | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 0, maximum: MAX_STALENESS_MS, description: 'active-passive: replicas whose last reported lag is higher are not answered for reads; unset: no bound' })
  @IsOptional() @IsInt() @Min(0) @Max(MAX_STALENESS_MS)
  maxStalenessMs?: number | null;

  @ApiPropertyOptional({ enum: PROMOTION_MODES, default: DEFAULT_PROMOTION, description: 'active-passive: automatic promotes the freshest healthy replica when the primary fails' })
  @IsOptional() @IsIn(PROMOTION_MODES as unknown as string[])
  promotion?: PromotionMode;

  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 0, maximum: MAX_PROMOTION_DELAY_SECONDS, default: DEFAULT_PROMOTION_DELAY_SECONDS, description: 'active-passive: how long the primary must be unhealthy before an automatic promotion' })
  @IsOptional() @IsInt() @Min(0) @Max(MAX_PROMOTION_DELAY_SECONDS)
  promotionDelaySeconds?: number | null;

  @ApiPropertyOptional({ enum: CONFLICT_RESOLUTIONS, nullable: true, description: 'active-active (required): how concurrent writes are merged' })
  @IsOptional() @IsIn(CONFLICT_RESOLUTIONS as unknown as string[])
  conflictResolution?: ConflictResolution | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'write.app.example.com', description: "A name in the service's zone that always resolves to the writer (the primary for active-passive)" })
  @IsOptional() @IsString() @IsDomainName()
  writeFqdn?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'https://ops.example.com/hooks/georoute', description: 'active-passive: promotions are POSTed here, signed per Standard Webhooks with notifySecret' })
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false, allow_underscores: false })
  @MaxLength(2000)
  notifyUrl?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, writeOnly: true, description: 'Signing secret for notifications (whsec_<base64> or 24+ bytes); never returned; kept when omitted, cleared with null' })
  @IsOptional() @IsString() @MinLength(16) @MaxLength(256)
  notifySecret?: string | null;
}

export class CreateServiceDto {
  @ApiProperty({ example: 'app.example.com' })
  @IsString() @IsDomainName()
  fqdn!: string;

  @ApiPropertyOptional({ enum: POLICIES, default: SERVICE_DEFAULTS.policy })
  @IsOptional() @IsIn(POLICIES as unknown as string[])
  policy?: (typeof POLICIES)[number];

  @ApiProperty({ example: ['eu-west-1', 'us-east-1'], description: 'Ordered: the failover order' })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(64) @ArrayUnique() @IsString({ each: true })
  regions!: string[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'string' } },
    nullable: true,
    example: { DE: ['eu-central-1'], 'continent:EU': ['eu-west-1'], '*': ['us-east-1'] },
    description: 'Keys: ISO country code, "continent:XX" (AF AN AS EU NA OC SA) or "*"; values: regions of this service',
  })
  @IsOptional() @IsObject()
  geolocation?: Record<string, string[]> | null;

  @ApiPropertyOptional({ default: SERVICE_DEFAULTS.ttl, minimum: 1, maximum: 86400 })
  @IsOptional() @IsInt() @Min(1) @Max(86400)
  ttl?: number;

  @ApiPropertyOptional({ enum: ['gdpr', 'none'], default: SERVICE_DEFAULTS.residency })
  @IsOptional() @IsIn(['gdpr', 'none'])
  residency?: 'gdpr' | 'none';

  @ApiPropertyOptional({ enum: ['route', 'treat-as-eu'], default: SERVICE_DEFAULTS.unknownLocation })
  @IsOptional() @IsIn(['route', 'treat-as-eu'])
  unknownLocation?: 'route' | 'treat-as-eu';

  @ApiPropertyOptional({ enum: ['fail-open', 'fail-closed'], default: SERVICE_DEFAULTS.whenAllUnhealthy })
  @IsOptional() @IsIn(['fail-open', 'fail-closed'])
  whenAllUnhealthy?: 'fail-open' | 'fail-closed';

  @ApiPropertyOptional({ default: SERVICE_DEFAULTS.answerCount, minimum: 1, maximum: 8 })
  @IsOptional() @IsInt() @Min(1) @Max(8)
  answerCount?: number;

  @ApiPropertyOptional({ type: ReplicationDto, nullable: true, description: 'Replication-aware routing; absent, null or mode none: not replicated' })
  @IsOptional() @IsObject() @ValidateNested() @Type(() => ReplicationDto)
  replication?: ReplicationDto | null;
}

export class UpdateServiceDto extends PartialType(OmitType(CreateServiceDto, ['fqdn'] as const)) {}

export type ServiceResponse = { fqdn: string; zone: string } & ServiceSettings & {
  replication: ReplicationSettingsResponse;
  createdAt: string;
  updatedAt: string;
};

/** A service's replication settings as returned (notifySecret is write-only: only whether it is set). */
export type ReplicationSettingsResponse = { mode: 'none' } | (Omit<ReplicationConfig, 'notifySecret'> & { notifySecretSet: boolean });
