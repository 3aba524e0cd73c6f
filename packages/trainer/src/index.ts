export * from './optim/adamw.js';
export * from './optim/schedule.js';
export * from './grpo/advantage.js';
export * from './grpo/loss.js';
export * from './grpo/rewards.js';
export * from './run/metrics-log.js';
