/**
 * The demo's world in numbers: when its event time starts, how long it
 * lasts, when fraud-detector's and anomaly-type's concepts change and how many predictions
 * each model makes.
 */

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const DEMO_START = Date.UTC(2025, 5, 2);
export const DEMO_DAYS = 4;
/** The concept change of fraud-detector and anomaly-type: the midpoint. */
export const DEMO_CHANGE = DEMO_START + (DEMO_DAYS / 2) * DAY;
export const DEMO_COUNTS = { 'fraud-detector': 20_000, 'churn-predictor': 5_000, 'anomaly-type': 4_000 } as const;
/** The binary models (world.ts); anomaly-type is multi-class (anomalies.ts). */
export type DemoModel = 'fraud-detector' | 'churn-predictor';
