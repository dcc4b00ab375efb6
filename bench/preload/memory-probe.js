// Loaded into the gateway by the memory scenario only (`node -r`). It observes: it keeps a
// reference to the server's SessionRuntimes when Nest initialises it, and every second prints
// `BENCH_MEMORY {"runtimes":n,"heapUsed":…}` on stderr: how many session runtimes the server
// holds, and process.memoryUsage() (so that heap the server retains can be told apart from RSS
// the allocator keeps). Eviction itself is the server's own sweep.
//
// When the harness writes `gc` to its stdin (only right after an RSS figure), it runs one full
// GC and prints `BENCH_MEMORY_GC {...}`: what the heap holds once garbage is gone, i.e. what is
// retained. (Through stdin rather than a signal, so that it never touches the server's own signal
// handling.)
'use strict';
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');

const file = path.join(process.env.BENCH_DIST_DIR || '', 'chat-run/runtime/session-runtimes.js');
let proto;
try {
  proto = require(file).SessionRuntimes.prototype;
} catch (error) {
  process.stderr.write(`BENCH_MEMORY_UNAVAILABLE ${JSON.stringify(String(error))}\n`);
}

function usage(runtimes) {
  const { heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
  return { runtimes: runtimes ? runtimes.size : -1, heapUsed, heapTotal, external, arrayBuffers };
}

if (proto && typeof proto.onModuleInit === 'function') {
  const onModuleInit = proto.onModuleInit;
  proto.onModuleInit = function benchObserved(...args) {
    const runtimes = this;
    setInterval(() => {
      process.stderr.write(`BENCH_MEMORY ${JSON.stringify(usage(runtimes))}\n`);
    }, 1000).unref();
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (text) => {
      if (!text.includes('gc')) return;
      v8.setFlagsFromString('--expose-gc');
      const gc = vm.runInNewContext('gc');
      gc();
      process.stderr.write(`BENCH_MEMORY_GC ${JSON.stringify(usage(runtimes))}\n`);
    });
    process.stdin.unref();
    return onModuleInit.apply(this, args);
  };
}
