/** Agent defaults; units in the names. */
export const DEFAULT_BUFFER_MAX_MB = 64;
