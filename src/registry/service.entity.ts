import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { Policy, Residency, UnknownLocation, WhenAllUnhealthy } from '../routing/types';

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
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
