// Install scripts and agent packages. The implementation lives with the update feature in
// server/src/updates/; this file is the HTTP entry point wired in server.ts.
export { handleDownloads } from '../updates/downloads.ts';
