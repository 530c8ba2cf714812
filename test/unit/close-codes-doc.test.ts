import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CloseCodes, retryClassOf } from '../../src/protocol/close-codes.ts';

const DOC = fileURLToPath(new URL('../../docs/protocol.md', import.meta.url));
async function readDoc(): Promise<string> {
  return readFile(DOC, 'utf8');
}

interface Row {
  code: number;
  cells: string[];
}

/** Markdown table rows that begin with `| <4-digit code> |`. */
function closeCodeRows(markdown: string): Row[] {
  const rows: Row[] = [];
  for (const line of markdown.split(/\r?\n/)) {
    const match = /^\|\s*(\d{4})\s*\|/.exec(line);
    if (!match) continue;
    const cells = line
      .replace(/^\|/, '')
      .replace(/\|\s*$/, '')
      .split('|')
      .map((c) => c.trim());
    rows.push({ code: Number(match[1]), cells });
  }
  return rows;
}

describe('docs/protocol.md close-code table vs src/protocol/close-codes.ts', () => {
  it('lists exactly the codes in CloseCodes, each once', async () => {
    const rows = closeCodeRows(await readDoc());
    const documented = rows.map((r) => r.code);
    assert.equal(new Set(documented).size, documented.length, `duplicate rows: ${documented.join(', ')}`);
    const inCode = Object.values(CloseCodes).map((c) => c.code);
    assert.deepEqual([...new Set(documented)].sort(), [...new Set(inCode)].sort());
  });

  it("each row's name and retry class match the code table", async () => {
    const rows = closeCodeRows(await readDoc());
    for (const info of Object.values(CloseCodes)) {
      const row = rows.find((r) => r.code === info.code);
      assert.ok(row, `${info.code} missing from docs/protocol.md`);
      assert.equal(row.cells[1], info.reason, `name column of ${info.code}`);
      assert.equal(row.cells[row.cells.length - 1], info.retry, `retry-class column of ${info.code}`);
    }
  });
});

describe('CloseCodes table', () => {
  it('codes are unique, valid to send, and reasons are short and fixed', () => {
    const infos = Object.values(CloseCodes);
    assert.equal(new Set(infos.map((i) => i.code)).size, infos.length);
    for (const info of infos) {
      // 1004-1006 and 1015 must never be sent in a close frame; app codes live in 4000-4999.
      assert.ok(![1004, 1005, 1006, 1015].includes(info.code), `${info.code} cannot be sent`);
      assert.ok((info.code >= 1000 && info.code <= 1014) || (info.code >= 4000 && info.code <= 4999), `${info.code}`);
      // Close reasons are limited to 123 bytes by RFC 6455.
      assert.ok(new TextEncoder().encode(info.reason).length <= 123);
      assert.match(info.reason, /^[a-z ]+$/);
    }
  });
});

describe('retryClassOf', () => {
  it('known codes return their table entry', () => {
    for (const info of Object.values(CloseCodes)) assert.equal(retryClassOf(info.code), info.retry, String(info.code));
    assert.equal(retryClassOf(4401), 'reconnect');
    assert.equal(retryClassOf(4408), 'reconnect');
    assert.equal(retryClassOf(1013), 'reconnect-with-backoff');
  });

  it("unknown 4000–4499 → 'reconnect'", () => {
    for (const code of [4000, 4001, 4100, 4250, 4498, 4499]) {
      assert.ok(!Object.values(CloseCodes).some((c) => c.code === code), `${code} should be unknown`);
      assert.equal(retryClassOf(code), 'reconnect', String(code));
    }
  });

  it("4500–4999 → 'do-not-retry'", () => {
    for (const code of [4500, 4501, 4750, 4998, 4999]) assert.equal(retryClassOf(code), 'do-not-retry', String(code));
  });

  it("outside the application range → 'reconnect-with-backoff'", () => {
    for (const code of [1000, 1005, 1006, 3000, 3999, 5000]) assert.equal(retryClassOf(code), 'reconnect-with-backoff', String(code));
  });
});
