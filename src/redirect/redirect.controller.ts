import { All, Controller, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../common/auth.guard';
import { RedirectService } from './redirect.service';

/** `ANY /r/{fqdn}/{path}`: 307 to the chosen region's baseUrl + path + query. */
@ApiExcludeController()
@Public()
@Controller('r')
export class RedirectController {
  constructor(private readonly redirects: RedirectService) {}

  @All(['', '*path'])
  redirect(@Req() req: Request, @Res() res: Response) { this.redirects.handle(req, res); }
}
