#!/usr/bin/env node
// `npx gatehouse` entry. npm puts node_modules/.bin first on PATH, so `node` here is the
// pinned Node 24, which runs the TypeScript sources directly.
await import('../src/main.ts');
