export { createProgram } from './program.js';
export { terminalProgress } from './progress.js';
export { printTable } from './table.js';
