import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

const bigintToNumber = { to: (v: number) => v, from: (v: string | number) => Number(v) };

@Entity('zones')
export class ZoneEntity {
  @PrimaryColumn('text') name!: string;
  @Column('jsonb') nameservers!: string[];
  @Column('text') hostmaster!: string;
  @Column('int') ttl!: number;
  @Column('int') refresh!: number;
  @Column('int') retry!: number;
  @Column('int') expire!: number;
  @Column('int', { name: 'negative_ttl' }) negativeTtl!: number;
  @Column('bigint', { transformer: bigintToNumber }) serial!: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

@Entity('zone_records')
export class RecordEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('text', { name: 'zone_name' }) zoneName!: string;
  /** Fully qualified, lower case, no trailing dot. */
  @Column('text') name!: string;
  @Column('text') type!: string;
  @Column('int') ttl!: number;
  @Column('jsonb') values!: string[];
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
