/** The pipeline config the demo replays its world with: a day's join window, two challengers for fraud-detector, anomaly-type multi-class with a severity head and a softmax challenger. */
import { buildConfig } from '../adapters/config/index.js';

export const demoConfig = () =>
  buildConfig({
    joiner: { join_window: '1d' },
    evaluator: { windows: ['1h', '1d'], fairness_attributes: ['customer_group'] },
    learner: { snapshot_every: 300 },
    models: {
      'fraud-detector': { challengers: ['logreg', 'ftrl'] },
      'anomaly-type': { task: 'multiclass', classes: ['spike', 'drift', 'outage'], numeric_target: 'severity', challengers: ['softmax'] },
    },
  });
