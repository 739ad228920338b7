/** The public entry of resolve (config → ResolvedConfig); the steps live in resolve/, one file per concern. */
export * from './resolve/index.js';
