/**
 * Reading auth files safely: a regular file only (never a FIFO or a device),
 * at most 4 MiB, strict UTF-8; permissions queried without a prompt.
 *
 * @module
 */

import { quote, RegistryError } from "./errors.ts";

/** Whether reading `path` is permitted, asked without a prompt. */
export function readPermitted(path: string): boolean {
  try {
    return Deno.permissions.querySync({ name: "read", path }).state === "granted";
  } catch {
    return false;
  }
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** The largest auth file read: real ones hold a few entries, a few KiB. */
const MAX_AUTH_FILE_BYTES = 4 << 20;

/** `AUTH_FILE_INVALID` naming the file and, for an explicit one, what named it. */
export function authFileUnusable(
  path: string,
  detail: string,
  { namedBy, cause }: { namedBy?: string | undefined; cause?: unknown } = {},
): RegistryError {
  const by = namedBy === undefined ? "" : ` named by ${namedBy}`;
  return new RegistryError(
    "AUTH_FILE_INVALID",
    `Cannot use auth file ${quote(path)}${by}: ${detail}`,
    cause === undefined ? {} : { cause },
  );
}

function kindOf(info: Deno.FileInfo): string {
  if (info.isDirectory) return "it is a directory";
  if (info.isFifo) return "it is a FIFO, not a regular file";
  if (info.isCharDevice || info.isBlockDevice) return "it is a device, not a regular file";
  if (info.isSocket) return "it is a socket, not a regular file";
  return "it is not a regular file";
}

/**
 * Reads an auth file as strict UTF-8: a regular file only (checked before
 * opening, so a FIFO cannot block), at most {@linkcode MAX_AUTH_FILE_BYTES}.
 */
export async function readRegularTextFile(path: string): Promise<string> {
  const info = await Deno.stat(path);
  if (!info.isFile) throw authFileUnusable(path, kindOf(info));
  using file = await Deno.open(path, { read: true });
  const opened = await file.stat();
  if (!opened.isFile) throw authFileUnusable(path, kindOf(opened));
  const chunks: Uint8Array[] = [];
  let size = 0;
  const buffer = new Uint8Array(64 * 1024);
  while (size <= MAX_AUTH_FILE_BYTES) {
    const n = await file.read(buffer);
    if (n === null) break;
    chunks.push(buffer.slice(0, n));
    size += n;
  }
  if (size > MAX_AUTH_FILE_BYTES) {
    throw authFileUnusable(path, `it is larger than ${MAX_AUTH_FILE_BYTES >> 20} MiB`);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  try {
    return UTF8.decode(bytes);
  } catch {
    throw authFileUnusable(path, "not UTF-8");
  }
}
