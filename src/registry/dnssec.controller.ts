import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiContract } from '../common/openapi';
import { RequireScope } from '../common/scopes';
import { DNSSEC, DNSSEC_EXAMPLE } from './registry.openapi';
import { EnableDnssecDto, RolloverDto } from './dto/dnssec.dto';
import { DnssecService } from './dnssec.service';

@ApiTags('zones')
@ApiBearerAuth()
@RequireScope('read')
@Controller('v1/zones/:name/dnssec')
export class DnssecController {
  constructor(private readonly dnssec: DnssecService) {}

  @Get()
  @ApiParam({ name: 'name', example: 'example.com' })
  @ApiContract({ summary: "A zone's DNSSEC: status, DNSKEYs, the DS for the registrar, key states and timings", status: 200, schema: DNSSEC, example: DNSSEC_EXAMPLE, errors: [404, 503] })
  get(@Param('name') name: string) { return this.dnssec.get(name); }

  @RequireScope('write')
  @Post() @HttpCode(201)
  @ApiParam({ name: 'name', example: 'example.com' })
  @ApiContract({ summary: 'Sign a zone (ECDSA P-256 by default, or Ed25519; one CSK, or KSK + ZSK)', status: 201, schema: DNSSEC, example: DNSSEC_EXAMPLE, errors: [400, 404, 409, 503], errorText: { 409: 'The zone is signed already, or on its way to unsigned' } })
  enable(@Param('name') name: string, @Body() dto: EnableDnssecDto) { return this.dnssec.enable(name, dto); }

  @RequireScope('write')
  @Post('rollover') @HttpCode(200)
  @ApiParam({ name: 'name', example: 'example.com' })
  @ApiContract({ summary: 'Start a key rollover: ZSK by pre-publication, KSK/CSK with both DS asked for by CDS/CDNSKEY; the schedule finishes it', status: 200, schema: DNSSEC, example: DNSSEC_EXAMPLE, errors: [400, 404, 409, 503], errorText: { 404: 'No such zone, or the zone is not signed', 409: 'A rollover of that key is under way, or the zone is being unsigned' } })
  rollover(@Param('name') name: string, @Body() dto: RolloverDto) { return this.dnssec.rollover(name, dto); }

  @RequireScope('write')
  @Delete() @HttpCode(200)
  @ApiParam({ name: 'name', example: 'example.com' })
  @ApiContract({ summary: 'Unsign a zone: first call publishes CDS/CDNSKEY delete (RFC 8078) and keeps signing; a second call, once the parent has no DS, removes the keys', status: 200, schema: DNSSEC, example: { ...DNSSEC_EXAMPLE, status: 'unsigning' }, errors: [404, 503], errorText: { 404: 'No such zone, or the zone is not signed' } })
  disable(@Param('name') name: string) { return this.dnssec.disable(name); }
}
