/** The package version, stamped into generated objects (no dates or paths, so output stays reproducible). */
export const PACKAGE_VERSION = '0.1.0';
