export { Joiner, NO_CHALLENGERS, DEFAULT_JOINER_OPTIONS, emptyCounters, modelCounters } from './joiner.js';
export type { JoinerOptions, JoinOutput, JoinCounters, ModelCounters, ShadowScoring } from './joiner.js';
export { MemoryJoinStore, withClassDefaults } from './store.js';
export { PackedJoinStore, type PackedEntry, type Packing, type Spill, type SpillTarget } from './packed-store.js';
export type { JoinEntry, JoinStore, ResolvedLabel } from './store.js';
export { TRUST, labelFrom, outcomeFrom, outranks, predictedClass, feedbackHash, sameOutcome, type Outcome, type TaskView } from './resolution.js';
export { CLASS_SCORE_SUM_TOLERANCE, ClassList, decidedClass, decidedLabels, predictionClassProblem } from './classes.js';
export { LOOKAHEAD, NO_CLOCK, STREAM_TIME, StreamTimeCheck, UNBOUNDED, showTime, timeProblem, wallClock } from './time-bounds.js';
export type { Checked, ClockReading, TimeBounds } from './time-bounds.js';
