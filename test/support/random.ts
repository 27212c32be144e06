/** A small seeded PRNG, so test streams are the same on every run (the benchmarks' mulberry32). */
export { mulberry32 as seededRandom } from '../../bench/stream.js';
