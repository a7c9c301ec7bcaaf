#!/usr/bin/env node
// The `cancelflow` command (package.json "bin"): runs cli/main.ts through tsx's require hook, so a clone works
// without a build (`./cli/bin.js …`, `npm run -s cli -- …`, or `cancelflow` after `npm link`).
'use strict';

require('tsx/cjs/api').register();
const { run } = require('./main.ts');

run(process.argv).then((code) => {
  process.exitCode = code;
});
