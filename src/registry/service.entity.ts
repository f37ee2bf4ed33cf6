import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { ConflictResolution, Policy, PromotionMode, Residency, UnknownLocation, WhenAllUnhealthy } from '../routing/types';

/** A service's replication settings as stored (null in the column: mode none). */
export interface ReplicationConfig {
  mode: 'active-passive' | 'active-active';
  /** active-passive: the writer; changed only by a promotion (POST /v1/services/{fqdn}/promote or automatic). */
  primary: string | null;
  maxStalenessMs: number | null;
  promotion: PromotionMode;
  promotionDelaySeconds: number;
  conflictResolution: ConflictResolution | null;
  writeFqdn: string | null;
  /** Where promotion notifications go (Standard Webhooks, signed with notifySecret). */
  notifyUrl: string | null;
  /** Write-only: never returned or exported. */
  notifySecret: string | null;
}

@Entity('services')
export class ServiceEntity {
  @PrimaryColumn('text') fqdn!: string;
  @Column('text', { name: 'zone_name' }) zoneName!: string;
  @Column('text') policy!: Policy;
  @Column('jsonb') regions!: string[];
  @Column('jsonb', { nullable: true }) geolocation!: Record<string, string[]> | null;
  @Column('int') ttl!: number;
  @Column('text') residency!: Residency;
  @Column('text', { name: 'unknown_location' }) unknownLocation!: UnknownLocation;
  @Column('text', { name: 'when_all_unhealthy' }) whenAllUnhealthy!: WhenAllUnhealthy;
  @Column('int', { name: 'answer_count' }) answerCount!: number;
  @Column('jsonb', { nullable: true }) replication!: ReplicationConfig | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
