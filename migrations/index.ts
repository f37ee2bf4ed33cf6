import { Registry1764000000000 } from './1764000000000-Registry';
import { Health1764000100000 } from './1764000100000-Health';
import { Anycast1764000200000 } from './1764000200000-Anycast';
import { ChangeFeed1764000300000 } from './1764000300000-ChangeFeed';
import { Replication1764000400000 } from './1764000400000-Replication';
import { HealthVersion1764000500000 } from './1764000500000-HealthVersion';
import { TopologyChunks1764000600000 } from './1764000600000-TopologyChunks';
import { ApiTokens1764000700000 } from './1764000700000-ApiTokens';
import { Audit1764000700100 } from './1764000700100-Audit';
import { Notifications1764000700200 } from './1764000700200-Notifications';
import { VersionPerTransaction1764000900000 } from './1764000900000-VersionPerTransaction';
import { Dnssec1764001000000 } from './1764001000000-Dnssec';
import { Measurements1764001100000 } from './1764001100000-Measurements';

/** Every migration, in order. New migrations are appended here. */
export const MIGRATIONS = [
  Registry1764000000000, Health1764000100000, Anycast1764000200000, ChangeFeed1764000300000, Replication1764000400000, HealthVersion1764000500000,
  TopologyChunks1764000600000, ApiTokens1764000700000, Audit1764000700100, Notifications1764000700200, VersionPerTransaction1764000900000,
  Dnssec1764001000000,
  Measurements1764001100000,
];
