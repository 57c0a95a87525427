/**
 * Reading classic BPF: `tcpdump -ddd`, `tcpdump -dd` (from the installed tcpdump) and JSON give
 * the instructions libpcap compiled; malformed text is an error at the right place.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pcapCompile } from '../../drivers/libpcap.js';
import { compileCbpf, parseCbpf } from '../../lang/cbpf/index.js';
import { CompileError, type Diagnostic } from '../../lang/diagnostics.js';
import { oracleReady } from '../libpcap/oracle.js';
import { haveTcpdump, requires } from '../support/env.js';

const withTcpdump = requires('tcpdump', haveTcpdump);
const ready = oracleReady();
const EXPRS = ['tcp port 80', 'ip6 and udp', 'vlan 100 and host 10.0.0.1', 'len > 4294967295', 'geneve and tcp', 'ether[0] & 1 != 0 or icmp'];

const tuples = (text: string) => parseCbpf(text).insns.map((i) => [i.code, i.jt, i.jf, i.k]);

function parseError(text: string): Diagnostic {
  try {
    parseCbpf(text, 'in.bpf');
  } catch (e) {
    if (e instanceof CompileError) return e.diagnostics[0];
    throw e;
  }
  throw new Error(`expected a parse error for ${JSON.stringify(text)}`);
}

describe.skipIf(!withTcpdump || !ready)('the three input forms give libpcap\'s instructions', () => {
  for (const expr of EXPRS) {
    it(expr, () => {
      const compiled = pcapCompile(expr, { linkType: 1, optimize: true });
      if (!compiled.ok) throw new Error(compiled.error);
      const ddd = execFileSync('tcpdump', ['-ddd', '-y', 'EN10MB', expr], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const dd = execFileSync('tcpdump', ['-dd', '-y', 'EN10MB', expr], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      expect(parseCbpf(ddd).form).toBe('ddd');
      expect(parseCbpf(dd).form).toBe('dd');
      expect(tuples(ddd)).toEqual(compiled.insns);
      expect(tuples(dd)).toEqual(compiled.insns);
      expect(tuples(JSON.stringify(compiled.insns))).toEqual(compiled.insns);
      expect(() => compileCbpf(ddd, { linkType: 1 })).not.toThrow();
    });
  }
});

describe('classic BPF text forms', () => {
  it('accepts hex, negative k, blank lines, CRLF and a missing final comma', () => {
    expect(tuples('2\r\n\r\n40 0 0 0x0c\r\n6 0 0 -1\r\n')).toEqual([[40, 0, 0, 12], [6, 0, 0, 0xffffffff]]);
    expect(tuples('{ 0x28, 0, 0, 0x0000000c },\n{ 0x6, 0, 0, 0x00040000 }\n')).toEqual([[40, 0, 0, 12], [6, 0, 0, 262144]]);
    expect(tuples('[[40,0,0,12],\n [6,0,0,262144]]')).toEqual([[40, 0, 0, 12], [6, 0, 0, 262144]]);
    expect(tuples('[]')).toEqual([]);
  });

  it('points at what is wrong', () => {
    const cases: [string, RegExp, number, number][] = [
      ['', /empty/, 1, 1],
      ['ldh [12]', /unexpected "ldh"/, 1, 1],
      ['3\n40 0 0 12\n6 0 0 0\n', /count line says 3 instructions but 2 follow/, 1, 1],
      ['2 5\n40 0 0 12\n6 0 0 0\n', /count alone, found number 5/, 1, 3],
      ['2\n40 0 0\n6 0 0 0\n', /four numbers "code jt jf k", found 3$/, 2, 1],
      ['1\n6 0 0 0 7\n', /four numbers "code jt jf k", found number 7/, 2, 9],
      ['1\n6 256 0 0\n', /jt 256 is out of range/, 2, 3],
      ['1\n70000 0 0 0\n', /opcode 70000 is out of range/, 2, 1],
      ['1\n6 0 0 4294967296\n', /k 4294967296 is out of range/, 2, 7],
      ['{ 0x28, 0, 0 0x0c },', /expected ',' after field 3, found number 12/, 1, 14],
      ['{ 0x28, 0, 0, 0x0c ],', /expected '}', found '\]'/, 1, 20],
      ['[[40, 0, 0, 12], [6, 0, 0, 1]] x', /unexpected "x"/, 1, 32],
      ['[[40, 0, 0, 12] [6, 0, 0, 1]]', /expected ',' or '\]' after an instruction/, 1, 17],
      ['[[40, 0, 0, 12],\n  6]', /expected '\[' starting an instruction/, 2, 3],
      ['[[40, 0, 0, 12]', /expected ',' or '\]'.*end of input/, 1, 16],
      ['1\n0x2z 0 0 0', /unexpected "0x2z"/, 2, 1],
    ];
    for (const [text, message, line, col] of cases) {
      const d = parseError(text);
      expect({ text, message: d.message, at: [d.line, d.col] }).toEqual({ text, message: expect.stringMatching(message), at: [line, col] });
      expect(d.file).toBe('in.bpf');
    }
  });

  it('formats errors with the file, the line and a caret', () => {
    try {
      compileCbpf('4\n40 0 0 12\n21 0 9 2048\n6 0 0 1\n40 0 0 12\n', { linkType: 1, file: 'f.bpf' });
      throw new Error('should not compile');
    } catch (e) {
      expect(e).toBeInstanceOf(CompileError);
      expect((e as Error).message).toBe([
        'f.bpf:3:6: error: instruction 1 (jeq #0x800): the false branch goes to instruction 11, past the last instruction (3)',
        '  21 0 9 2048',
        '       ^',
        'f.bpf:5:1: error: the last instruction must be a ret (ret #k or ret a), found ldh [12]',
        '  40 0 0 12',
        '  ^~~~~~~~~',
      ].join('\n'));
    }
  });
});
