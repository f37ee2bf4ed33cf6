import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export interface HealthCheckSpec {
  type: 'http' | 'https' | 'tcp' | 'dns';
  target: string;
  intervalSeconds: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  expectedStatus: string;
  bodyContains?: string;
  insecureSkipVerify?: boolean;
  /** dns checks: the question, its transport, the expected RCODE and an optional answer pattern. */
  queryName?: string;
  queryType?: 'A' | 'AAAA' | 'CNAME' | 'MX' | 'NS' | 'SOA' | 'TXT' | 'SRV' | 'PTR' | 'CAA';
  transport?: 'udp' | 'tcp';
  expectRcode?: 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED';
  answerPattern?: string;
}

export interface AnycastSpec {
  originAsn: number;
  upstreams: number[];
  prepend: number;
}

@Entity('regions')
export class RegionEntity {
  @PrimaryColumn('text') name!: string;
  @Column('text', { name: 'country_code' }) countryCode!: string;
  @Column('double precision') latitude!: number;
  @Column('double precision') longitude!: number;
  @Column('jsonb') ipv4!: string[];
  @Column('jsonb') ipv6!: string[];
  @Column('text', { name: 'base_url', nullable: true }) baseUrl!: string | null;
  @Column('int') weight!: number;
  @Column('boolean') drained!: boolean;
  @Column('int', { nullable: true }) capacity!: number | null;
  @Column('jsonb', { name: 'health_check', nullable: true }) healthCheck!: HealthCheckSpec | null;
  @Column('int', { name: 'heartbeat_timeout_seconds', nullable: true }) heartbeatTimeoutSeconds!: number | null;
  @Column('text', { name: 'webhook_secret', nullable: true }) webhookSecret!: string | null;
  @Column('jsonb', { nullable: true }) anycast!: AnycastSpec | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
