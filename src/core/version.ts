// This program's version: what --version prints and build-output.json records (package.json's, kept equal by test/cli-usage.test.ts).
export const VERSION = '0.1.0';
