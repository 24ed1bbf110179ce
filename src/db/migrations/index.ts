import type { Migration } from '../migrator.ts';
import { initial } from './001-initial.ts';

/** Every migration, in order. A new one gets the next number and is never edited after release. */
export const MIGRATIONS: readonly Migration[] = [initial];
