// The @nestjs/swagger CLI plugin for ts-jest, so that the e2e suite serves the same OpenAPI
// document as `nest build` does. Its options are read from nest-cli.json: one place.
const { before } = require('@nestjs/swagger/plugin');
const nestCli = require('../nest-cli.json');

const { options } = nestCli.compilerOptions.plugins.find((p) => p.name === '@nestjs/swagger');

module.exports = {
  name: 'nestjs-swagger-transformer',
  version: 1,
  factory: (compiler) => before(options, compiler.program),
};
