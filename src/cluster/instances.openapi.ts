/** Response schema of GET /v1/instances. */
import { bool, int, list, obj, schemaRef, str, time } from '../common/openapi';

export const INSTANCES = obj({
  items: list(schemaRef('Instance', obj({
    instanceId: str(),
    startedAt: time(),
    lastSeen: time(),
    live: bool({ description: 'seen within the last heartbeats' }),
    snapshotVersion: int(),
    registryVersion: int(),
    httpPort: int({ nullable: true }),
    dnsPort: int({ nullable: true }),
  }))),
});
export const INSTANCES_EXAMPLE = { items: [{ instanceId: 'georoute-3cd54435', startedAt: '2026-12-06T01:48:27.954Z', lastSeen: '2026-12-06T01:48:28.411Z', live: true, snapshotVersion: 2, registryVersion: 0, httpPort: 8080, dnsPort: 53 }] };
