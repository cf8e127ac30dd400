/**
 * What a folder copy (`ninjait cp -r`, the console's folder download) may take from a device's
 * listings, which are hostile input like any bytes from the network: a stolen agent could name
 * `../../.bashrc`, or answer with folders that never end.
 */

/** How deep a folder copy goes, and how many entries it visits. */
export const MAX_FOLDER_DEPTH = 64;
export const MAX_FOLDER_ENTRIES = 100_000;

/**
 * A name from a device's listing that may become a file or folder here (or a path in a .zip):
 * one path segment, and nothing that leads elsewhere.
 */
export function isSafeEntryName(name: string): boolean {
  return name.length > 0 && name !== '.' && name !== '..' && !/[/\\\0]/.test(name) && !/^[A-Za-z]:/.test(name);
}

/** Counts a copy's entries and depth, and throws once either passes its bound. */
export function folderBudget() {
  let entries = 0;
  return (depth: number, where: string) => {
    entries += 1;
    if (entries > MAX_FOLDER_ENTRIES) throw new Error(`More than ${MAX_FOLDER_ENTRIES} entries under the folder; copy its subfolders one by one`);
    if (depth > MAX_FOLDER_DEPTH) throw new Error(`${where} is more than ${MAX_FOLDER_DEPTH} folders deep`);
  };
}
