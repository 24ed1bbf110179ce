import type { App } from '../app.ts';
import type { AppDeps } from '../deps.ts';

export function registerBotRoutes(_app: App, _deps: AppDeps): void {}
