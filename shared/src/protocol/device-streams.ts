/**
 * A download stream: a device writes a byte range of a file on a connection of its own instead
 * of as chunk frames on its command socket. The server sends the `fs.downloadStream` op with a
 * one-time ticket; the device opens
 *
 *   GET DEVICE_STREAM_PATH HTTP/1.1
 *   Connection: Upgrade
 *   Upgrade: DEVICE_STREAM_PROTOCOL
 *   DEVICE_STREAM_TICKET_HEADER: <ticket>
 *
 * and, once answered `101 Switching Protocols`, writes exactly the range's bytes (fewer only if
 * the file ends first) and closes its side. Nothing else travels on the connection: no framing,
 * so the server can copy the bytes on without joining or slicing them.
 */
export const DEVICE_STREAM_PATH = '/remote/files/device-stream';
export const DEVICE_STREAM_PROTOCOL = 'ninjait-file-stream';
export const DEVICE_STREAM_TICKET_HEADER = 'x-ninjait-stream-ticket';
