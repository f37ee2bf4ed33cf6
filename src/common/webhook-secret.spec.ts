import { webhookSecretProblem } from './webhook-secret';

/** A Standard Webhooks secret (32 random bytes, base64). */
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo=';
const RAW_SECRET = 'region-eu-west-1-secret-0123456789';

describe('webhook secrets', () => {
  it.each([
    [SECRET, null],
    [RAW_SECRET, null],
    ['', 'webhook secret is empty'],
    ['too-short-secret', 'webhook secret must be at least 24 bytes, got 16'],
    ['whsec_' + Buffer.alloc(16).toString('base64'), 'webhook secret must be at least 24 bytes, got 16'],
    ['whsec_not*base64*at*all*but*long*enough', 'webhook secret: whsec_ must be followed by standard base64'],
    ['whsec_', 'webhook secret: whsec_ must be followed by standard base64'],
  ])('webhookSecretProblem(%j) -> %j (W13)', (secret, problem) => {
    expect(webhookSecretProblem(secret)).toBe(problem);
  });
});
