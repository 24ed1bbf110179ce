#!/usr/bin/env node
// Entry point for `npx rollcall`. npm puts the project's pinned Node 24 first on PATH, and
// Node 24 runs the TypeScript sources directly.
import '../src/main.ts';
