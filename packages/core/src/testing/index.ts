export * from './fixtures.js';
export * from './reward.contract.js';
export * from './judge.contract.js';
export * from './dataset.contract.js';
export * from './backbone.contract.js';
