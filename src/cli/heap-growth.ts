/**
 * Lets V8's heap grow to 4 times its live size between full collections (`--heap-growing-percent=300`), in the
 * `wdcd` process only (the library leaves a host program's V8 alone).
 *
 * Why: detection's JavaScript heap is small (about 12 MB live) while gigabytes of typed arrays and messages pass
 * through it, and with V8's default growth it began a full mark-compact every 100 ms or so: 93-115 per 16 MP
 * scene, 4.7-4.9 CPU-seconds of V8's helper threads on a 2-core machine. With the flag: 45-52 collections,
 * 3.0-3.5 CPU-seconds, the whole detection about 10 % faster (npm run bench), peak memory 20-40 MB higher.
 * V8 reads the flag at every collection, so setting it after start-up takes effect.
 */
import v8 from 'node:v8';

export function letHeapGrow(): void {
  v8.setFlagsFromString('--heap-growing-percent=300');
}
