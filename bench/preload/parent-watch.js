// Loaded into the gateway by the benchmark (`node -r`): if the harness dies without cleaning up
// (SIGKILL), the server it started exits too instead of lingering. One unref'd 1 s timer; it
// touches nothing else in the server.
'use strict';
const parent = Number(process.env.BENCH_PARENT_PID);
if (parent > 0) {
  setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      process.exit(0);
    }
  }, 1000).unref();
}
