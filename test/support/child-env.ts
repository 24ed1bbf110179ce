// The environment a test hands to a `rollcall` child process: the caller's own (PATH and the like),
// without the runtime and bot provider settings a developer's shell may export. Those would reach
// the child (a BOT_PROVIDER_API_KEY beside BOT_RUNTIME=none stops its start) where the test means
// to choose the runtime itself.
export function inheritedEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(BOT_RUNTIME|BOT_PROVIDER_)/.test(key)) continue;
    env[key] = value;
  }
  return env;
}
