import { Registry1764000000000 } from './1764000000000-Registry';
import { Health1764000100000 } from './1764000100000-Health';

/** Every migration, in order. New migrations are appended here. */
export const MIGRATIONS = [Registry1764000000000, Health1764000100000];
