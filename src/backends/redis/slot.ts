/**
 * The Redis Cluster hash slot of a key or shard channel (the cluster specification's CRC16-XMODEM of
 * the hash tag, mod 16384), to know which master a sharded subscription goes to. Checked against
 * Redis's own CLUSTER KEYSLOT in test/contract/cluster.test.ts.
 */

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

const encoder = new TextEncoder();

export function slotOf(key: string): number {
  const bytes = encoder.encode(key);
  // Only the part inside the first {…} counts, when that part is not empty.
  let start = 0;
  let end = bytes.length;
  const open = bytes.indexOf(0x7b);
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) [start, end] = [open + 1, close];
  }
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ bytes[i]!) & 0xff]!;
  return crc & 0x3fff;
}
