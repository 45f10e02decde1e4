/** @type {import('jest').Config} */
module.exports = {
  rootDir: '.',
  moduleFileExtensions: ['js', 'json', 'ts'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // The build output mirrors src/ and test/; jest must not index it, or two
  // copies of each module (and of package.json) collide in its module map.
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    // Prisma's wasm schema engine ships as an ES module, which jest's CommonJS
    // runtime cannot load on Node 20; plain Node loads it through require().
    'schema_engine_bg\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'es2022', isolatedModules: true } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!@prisma/schema-engine-wasm/)'],
  testEnvironment: 'node',
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60000,
  // Prisma's wasm schema engine keeps the event loop alive after it is freed
  // (no handle is left open that Node can report), so a run ends explicitly.
  forceExit: true,
};
