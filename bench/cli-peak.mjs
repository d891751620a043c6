// Imported first (`node --import`) into a `secretsync` CLI run by the bench: on exit it writes, as one JSON line
// on file descriptor 3, the process's peak RSS (the kernel's maxrss), the highest heapUsed sampled every 50 ms,
// and the heap still live after a full GC. Plain JavaScript on purpose, loading nothing beside what the CLI loads
// unless a diagnostic below is asked for:
// - BENCH_ALLOC_PROFILE=<file>: samples every allocation, garbage included (Node's `--heap-prof` keeps only what is
//   live at exit), and writes the profile there (Chrome DevTools' Memory tab opens it);
// - BENCH_HEAP_SNAPSHOT=<file>, BENCH_HEAP_SNAPSHOT_AFTER_MS=<ms>: a heap snapshot (live objects only) that far in;
// - BENCH_LIVE_SAMPLE_MS=<ms>: a full GC that often, and the most heap found live after one. That is what the run
//   holds at once, garbage apart (the GCs change the peak: use it to explain a figure, not to report one).
import {writeFileSync, writeSync} from 'node:fs'
import {setInterval, setTimeout} from 'node:timers'

const profileFile = process.env.BENCH_ALLOC_PROFILE
const session = profileFile ? new (await import('node:inspector')).Session() : undefined
if (session) {
  session.connect()
  session.post('HeapProfiler.startSampling', {
    samplingInterval: 64 * 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  })
}

const snapshotFile = process.env.BENCH_HEAP_SNAPSHOT
if (snapshotFile) {
  const {writeHeapSnapshot} = await import('node:v8')
  setTimeout(() => writeHeapSnapshot(snapshotFile), Number(process.env.BENCH_HEAP_SNAPSHOT_AFTER_MS ?? 10_000)).unref()
}

let heapPeak = 0
setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 50).unref()
let livePeak = 0
const liveEvery = Number(process.env.BENCH_LIVE_SAMPLE_MS ?? 0)
if (liveEvery > 0 && typeof globalThis.gc === 'function')
  setInterval(() => {
    globalThis.gc()
    livePeak = Math.max(livePeak, process.memoryUsage().heapUsed)
  }, liveEvery).unref()

process.on('exit', () => {
  // The peak is read before anything here allocates or collects.
  const maxRssKiB = process.resourceUsage().maxRSS
  heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)
  // A same-thread inspector session answers synchronously, so this runs before the process ends.
  session?.post('HeapProfiler.stopSampling', (error, result) => {
    if (!error) writeFileSync(profileFile, JSON.stringify(result.profile))
  })
  if (typeof globalThis.gc === 'function') globalThis.gc()
  const line = {maxRssKiB, heapPeak, heapLive: process.memoryUsage().heapUsed, ...(liveEvery > 0 ? {livePeak} : {})}
  try {
    writeSync(3, `${JSON.stringify(line)}\n`)
  } catch {
    // No pipe on fd 3: run outside the bench.
  }
})
