/** The pipeline config the demo replays its world with: a day's join window, two challengers for fraud-detector. */
import { buildConfig } from '../adapters/config/index.js';

export const demoConfig = () =>
  buildConfig({
    joiner: { join_window: '1d' },
    evaluator: { windows: ['1h', '1d'], fairness_attributes: ['customer_group'] },
    learner: { snapshot_every: 300 },
    models: { 'fraud-detector': { challengers: ['logreg', 'ftrl'] } },
  });
