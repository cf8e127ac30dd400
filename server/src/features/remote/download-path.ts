/**
 * Where `ninjait cp DEVICE:PATH LOCAL` and the console's Files tab read a file's bytes, as one
 * streamed HTTP body. A module of its own so the CLI can name it without loading the remote
 * feature (its services, the commands feature, their schemas): that import was most of `ninjait
 * cp`'s start-up.
 */
export const DOWNLOAD_STREAM_PATH = '/remote/files/download';
