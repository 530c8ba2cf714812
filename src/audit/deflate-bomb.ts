/**
 * A permessage-deflate payload (RFC 7692 §7.2.1) that inflates to `inflatedBytes` zero bytes:
 * one fixed-Huffman DEFLATE block (RFC 1951 §3.2.6) of a literal 0 and back-references of
 * length 258 at distance 1 (13 bits for 258 bytes, about 1:160), then the empty stored block of a
 * sync flush, whose 00 00 FF FF tail is left off as the extension requires. Built by hand because
 * CompressionStream always ends with a final block, which some inflaters refuse mid-stream.
 */
class BitWriter {
  readonly #bytes: number[] = [];
  #current = 0;
  #count = 0;

  /** `n` bits of `value`, least significant first (DEFLATE's order for header fields). */
  bits(value: number, n: number): void {
    for (let i = 0; i < n; i++) this.#push((value >> i) & 1);
  }

  /** A Huffman code, most significant bit first. */
  code(value: number, n: number): void {
    for (let i = n - 1; i >= 0; i--) this.#push((value >> i) & 1);
  }

  finish(): Uint8Array {
    if (this.#count > 0) this.#bytes.push(this.#current);
    return Uint8Array.from(this.#bytes);
  }

  #push(bit: number): void {
    this.#current |= bit << this.#count;
    if (++this.#count === 8) {
      this.#bytes.push(this.#current);
      this.#current = 0;
      this.#count = 0;
    }
  }
}

const LITERAL_ZERO = 0x30; // fixed code of literal 0: 8 bits 00110000
const LENGTH_258 = 0xc5; // fixed code of length symbol 285: 8 bits 11000101
const END_OF_BLOCK = 0; // symbol 256: 7 bits 0000000

export function deflateBomb(inflatedBytes: number): Uint8Array {
  const w = new BitWriter();
  w.bits(0, 1); // BFINAL = 0: the message continues with the sync flush
  w.bits(1, 2); // BTYPE = 01, fixed Huffman codes
  w.code(LITERAL_ZERO, 8);
  for (let produced = 1; produced + 258 <= inflatedBytes; produced += 258) {
    w.code(LENGTH_258, 8);
    w.code(0, 5); // distance code 0: distance 1
  }
  w.code(END_OF_BLOCK, 7);
  w.bits(0, 1); // the sync flush's stored block: BFINAL = 0
  w.bits(0, 2); // BTYPE = 00; its padding and 00 00 FF FF are what the receiver appends
  return w.finish();
}
