// Builds the layer zip and unpacks it the way Lambda does (into a folder standing in for /opt),
// keeping each entry's Unix mode so the extension stays executable.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { unzipSync } from 'fflate';
import { type BuildLayerOptions, buildLayer, type LayerBuildResult } from '../../src/index.js';

/** The Unix mode of each entry, read from the zip's central directory (external attributes >> 16). */
export function unixModes(zip: Buffer): Record<string, number> {
  const modes: Record<string, number> = {};
  let offset = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(offset + 10);
  offset = zip.readUInt32LE(offset + 16);
  for (let i = 0; i < count; i += 1) {
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    modes[name] = zip.readUInt32LE(offset + 38) >>> 16;
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return modes;
}

/** Unpacks `zipFile` into `optDir` with the modes the zip records. */
export function unpackLayer(zipFile: string, optDir: string): void {
  const zip = readFileSync(zipFile);
  const modes = unixModes(zip);
  for (const [path, data] of Object.entries(unzipSync(zip))) {
    const file = join(optDir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, data);
    const mode = modes[path];
    if (mode !== undefined) chmodSync(file, mode & 0o777);
  }
}

export async function buildAndUnpackLayer(
  options: BuildLayerOptions & { out: string },
  optDir: string,
): Promise<LayerBuildResult> {
  const result = await buildLayer(options);
  unpackLayer(result.out, optDir);
  return result;
}
