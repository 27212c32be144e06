/** A small seeded PRNG, so test streams are the same on every run (the demo's and the benchmarks' mulberry32). */
export { mulberry32 as seededRandom } from '../../demo/random.js';
