// Reads a zip's central directory (a .vsix is a zip): entry names with their compressed and uncompressed
// sizes. Enough of APPNOTE.TXT for what vsce writes (no zip64, no multi-disk archives).
import fs from 'node:fs';

export interface ZipEntry { name: string; compressed: number; size: number }

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;

export function zipEntries(file: string): ZipEntry[] {
  const buf = fs.readFileSync(file);
  // end of central directory: 22 bytes plus a comment of up to 64 KiB, at the end of the file
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
    if (buf.readUInt32LE(i) === EOCD) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error(`${file}: not a zip file (no end-of-central-directory record)`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== CENTRAL) throw new Error(`${file}: bad central directory entry ${i} at offset ${p}`);
    const compressed = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    out.push({ name: buf.toString('utf8', p + 46, p + 46 + nameLen), compressed, size });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}
