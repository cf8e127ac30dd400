/**
 * Where `ninjait cp LOCAL DEVICE:PATH` and the console's Files tab send an upload chunk's bytes,
 * one HTTP body per chunk, and the header the console sends with its session cookie there. A
 * module of its own, like `download-path.ts`, so the CLI can name it without loading the feature.
 */
export const UPLOAD_CHUNK_PATH = '/remote/files/upload';
export const UPLOAD_HEADER = 'x-ninjait-upload';
