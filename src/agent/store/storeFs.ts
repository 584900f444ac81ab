import { constants } from 'node:fs';
import { type FileHandle, open, rename, rm, stat } from 'node:fs/promises';
import { fsErrorCode, fsyncDirectory } from '../../lib/durableFile.js';

/**
 * The few file-system calls the journal makes, behind an interface so tests can inject failures
 * (disk full, EIO) without root tricks. Production uses `nodeStoreFs`.
 */
export interface StoreFileHandle {
  /** The whole file from offset 0. */
  readAll(): Promise<Buffer>;
  /** One positional write; may write fewer bytes than asked (the caller loops). */
  write(data: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  datasync(): Promise<void>;
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface StoreFileSystem {
  /** Opens read-write, creating the file (mode 0o600) if missing. */
  openReadWrite(path: string): Promise<StoreFileHandle>;
  /** Opens read-write, creating or truncating the file. */
  openTruncated(path: string): Promise<StoreFileHandle>;
  exists(path: string): Promise<boolean>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  syncDirectory(directory: string): Promise<void>;
}

class NodeStoreFileHandle implements StoreFileHandle {
  constructor(private readonly handle: FileHandle) {}

  async readAll(): Promise<Buffer> {
    const { size } = await this.handle.stat();
    const buffer = Buffer.alloc(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await this.handle.read(buffer, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  }

  async write(data: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    const { bytesWritten } = await this.handle.write(data, offset, length, position);
    return bytesWritten;
  }

  datasync(): Promise<void> {
    return this.handle.datasync();
  }

  sync(): Promise<void> {
    return this.handle.sync();
  }

  truncate(length: number): Promise<void> {
    return this.handle.truncate(length);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

export const nodeStoreFs: StoreFileSystem = {
  async openReadWrite(path) {
    return new NodeStoreFileHandle(await open(path, constants.O_RDWR | constants.O_CREAT, 0o600));
  },
  async openTruncated(path) {
    return new NodeStoreFileHandle(await open(path, 'w+', 0o600));
  },
  async exists(path) {
    try {
      await stat(path);
      return true;
    } catch (error) {
      if (fsErrorCode(error) === 'ENOENT') return false;
      throw error;
    }
  },
  rename,
  remove: (path) => rm(path, { force: true }),
  syncDirectory: fsyncDirectory,
};

/** Writes all of `data` at `position`, looping over short writes. */
export async function writeFully(handle: StoreFileHandle, data: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const count = await handle.write(data, written, data.length - written, position + written);
    if (count <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    written += count;
  }
}
