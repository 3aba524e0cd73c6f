export * from './common.js';
export * from './seg.js';
export * from './volume.js';
