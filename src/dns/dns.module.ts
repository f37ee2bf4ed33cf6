import { Module } from '@nestjs/common';
import { DnsService } from './dns.service';

/** The authoritative DNS server (UDP and TCP) over the current routing snapshot. */
@Module({ providers: [DnsService], exports: [DnsService] })
export class DnsModule {}
