export * from './predictions.js';
export * from './metrics.js';
export * from './tables.js';
export * from './conclusion.js';
export * from './evaluate.js';
export * from './report/svg.js';
export * from './report/html.js';
export * from './paired.js';
