/**
 * Unit specs live beside the code (the server's and the client package's); e2e specs in test/.
 * `npm test` runs both projects.
 */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];
// The e2e app documents its routes as the built one does (see test/swagger-plugin.js).
const tsJestWithSwagger = [
  'ts-jest',
  {
    tsconfig: 'test/tsconfig.e2e.json',
    // Type errors are lint's and tsc's job; here they would only slow the suite down.
    diagnostics: false,
    astTransformers: { before: ['<rootDir>/test/swagger-plugin.js'] },
  },
];
module.exports = {
  testTimeout: 30000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: '.',
      testMatch: [
        '<rootDir>/src/**/*.spec.ts',
        '<rootDir>/client/src/**/*.spec.ts',
        '<rootDir>/test/docs/**/*.spec.ts',
        '<rootDir>/test/fake-hermes/**/*.spec.ts',
      ],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      rootDir: '.',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      transform: { '^.+\\.ts$': tsJestWithSwagger },
    },
  ],
};
