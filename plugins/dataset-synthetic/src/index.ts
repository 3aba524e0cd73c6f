export * from './catalog.js';
export * from './difficulty.js';
export * from './plan.js';
export * from './scene.js';
export * from './synthesize.js';
export * from './plugin.js';
