/**
 * A .zip of files already in memory, stored (not compressed): a folder downloaded from a device
 * is saved by the browser as one file, and every unzip tool reads it. Stored, because what is
 * downloaded is mostly logs and binaries the browser would spend seconds compressing for little,
 * and because then the file's bytes go into the Blob as they are (no copy). Without ZIP64: the
 * console's transfers stop at 1 GiB (MAX_CONSOLE_TRANSFER_BYTES), far inside 4 GiB and 65,535 entries.
 */

export interface ZipEntry {
  /** Path inside the archive, `/`-separated; a folder ends with `/`. */
  name: string;
  /** The file's bytes (none for a folder). */
  parts: readonly Uint8Array<ArrayBuffer>[];
  modified: Date;
}

export const MAX_ZIP_BYTES = 0xffff_fffe;
export const MAX_ZIP_ENTRIES = 0xfffe;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO-HDLC, as zip uses it) over the parts in order. */
export function crc32(parts: readonly Uint8Array[]): number {
  let crc = 0xffffffff;
  for (const part of parts) {
    for (let i = 0; i < part.length; i += 1) crc = CRC_TABLE[(crc ^ part[i]!) & 0xff]! ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** MS-DOS time and date, as zip headers hold them (2-second resolution, from 1980). */
function dosTime(d: Date): { time: number; date: number } {
  const year = Math.max(1980, Math.min(2107, d.getFullYear()));
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

const UTF8_NAMES = 0x0800;

/** The archive as a Blob: local headers and data, then the central directory. */
export function zipStore(entries: readonly ZipEntry[]): Blob {
  if (entries.length > MAX_ZIP_ENTRIES) throw new Error(`A .zip from the console holds at most ${MAX_ZIP_ENTRIES} entries`);
  const encoder = new TextEncoder();
  const out: BlobPart[] = [];
  const central: Uint8Array<ArrayBuffer>[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = encoder.encode(entry.name);
    const size = entry.parts.reduce((sum, part) => sum + part.length, 0);
    if (offset + size + 30 + name.length > MAX_ZIP_BYTES) throw new Error('A .zip from the console holds at most 4 GiB');
    const crc = crc32(entry.parts);
    const { time, date } = dosTime(entry.modified);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true); // version needed: 2.0
    local.setUint16(6, UTF8_NAMES, true);
    local.setUint16(8, 0, true); // stored
    local.setUint16(10, time, true);
    local.setUint16(12, date, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, size, true);
    local.setUint32(22, size, true);
    local.setUint16(26, name.length, true);
    local.setUint16(28, 0, true);
    out.push(local.buffer, name, ...entry.parts);

    const record = new DataView(new ArrayBuffer(46));
    record.setUint32(0, 0x02014b50, true);
    record.setUint16(4, (3 << 8) | 20, true); // made by: Unix, 2.0 (so the mode below is read)
    record.setUint16(6, 20, true);
    record.setUint16(8, UTF8_NAMES, true);
    record.setUint16(10, 0, true);
    record.setUint16(12, time, true);
    record.setUint16(14, date, true);
    record.setUint32(16, crc, true);
    record.setUint32(20, size, true);
    record.setUint32(24, size, true);
    record.setUint16(28, name.length, true);
    const folder = entry.name.endsWith('/');
    // Unix mode in the high half: rwxr-xr-x folders, rw-r--r-- files (the device's own modes are not carried over).
    record.setUint32(38, (((folder ? 0o040755 : 0o100644) << 16) | (folder ? 0x10 : 0)) >>> 0, true);
    record.setUint32(42, offset, true);
    central.push(new Uint8Array(record.buffer), name);
    offset += 30 + name.length + size;
  }
  const centralSize = central.reduce((sum, part) => sum + part.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, centralSize, true);
  end.setUint32(16, offset, true);
  return new Blob([...out, ...central, end.buffer], { type: 'application/zip' });
}
