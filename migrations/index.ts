import { Registry1764000000000 } from './1764000000000-Registry';
import { Health1764000100000 } from './1764000100000-Health';
import { Anycast1764000200000 } from './1764000200000-Anycast';
import { ChangeFeed1764000300000 } from './1764000300000-ChangeFeed';
import { Replication1764000400000 } from './1764000400000-Replication';
import { HealthVersion1764000500000 } from './1764000500000-HealthVersion';
import { TopologyChunks1764000600000 } from './1764000600000-TopologyChunks';

/** Every migration, in order. New migrations are appended here. */
export const MIGRATIONS = [Registry1764000000000, Health1764000100000, Anycast1764000200000, ChangeFeed1764000300000, Replication1764000400000, HealthVersion1764000500000, TopologyChunks1764000600000];
