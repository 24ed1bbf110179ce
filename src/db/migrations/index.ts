import type { Migration } from '../migrator.ts';
import { initial } from './001-initial.ts';
import { calendarConnections } from './002-calendar-connections.ts';
import { runtimeCommands } from './003-runtime-commands.ts';
import { outageAndKeyHash } from './004-outage-and-key-hash.ts';
import { providerBotIds } from './006-provider-bot-ids.ts';
import { providerHandovers } from './009-provider-handovers.ts';

/** Every migration, in order. A new one gets the next number and is never edited after release. */
export const MIGRATIONS: readonly Migration[] = [initial, calendarConnections, runtimeCommands, outageAndKeyHash, providerBotIds, providerHandovers];
