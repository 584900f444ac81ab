import { writeFileSync } from 'node:fs';
import { getHeapCodeStatistics, getHeapSpaceStatistics } from 'node:v8';
import { heapAfterGc } from './gc.js';

/**
 * Preloaded into a bench's agent process (`node --import …/heapProbe.js bin/kkt-agent.js run`): on SIGUSR2
 * it collects garbage fully and writes the heap still in use to `$KKT_BENCH_HEAP_FILE`. Bench only; the
 * agent itself never listens for SIGUSR2.
 */
const out = process.env.KKT_BENCH_HEAP_FILE;
if (out) {
  process.on('SIGUSR2', () => {
    const heap = heapAfterGc();
    // Where the rest of RSS is (V8's committed heap, buffers, native): beside it, for a look by hand.
    writeFileSync(`${out}.usage.json`, JSON.stringify(process.memoryUsage()));
    // V8's heap by space and its code (JIT output, bytecode) after the same GC: what a warm-up grows.
    writeFileSync(
      `${out}.spaces.json`,
      JSON.stringify({ spaces: getHeapSpaceStatistics(), code: getHeapCodeStatistics() }),
    );
    writeFileSync(out, String(heap));
  });
}
