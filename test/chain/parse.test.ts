// The flow-graph front end: both forms, groups, the class table, and diagnostics.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompileError } from '../../lang/diagnostics.js';
import { compileChain, MAX_FLOWS } from '../../lang/chain/index.js';

const fns = (src: string) => compileChain(src).flows.map((f) => f.steps.map((s) => `${s.fn}(${s.args.join(',')})`).join(' '));

function errorOf(src: string, file?: string): string {
  try {
    compileChain(src, file !== undefined ? { file } : {});
  } catch (e) {
    expect(e).toBeInstanceOf(CompileError);
    return (e as Error).message;
  }
  throw new Error(`no error for ${src}`);
}

describe('flow graphs', () => {
  it('reads the expr= form and the arrow form to the same MAPI flow', () => {
    const a = compileChain('(device,expr=eth0) > (sampler,expr=2) > (BPF,expr="tcp port 80") > (packetcount)');
    const b = compileChain('(device,eth0) -> (sampler,2,4) -> (BPF,"tcp port 80",0) -> (packetcount,,8)');
    expect(a.device?.name).toBe('eth0');
    expect(b.device?.name).toBe('eth0');
    const want = 'SAMPLE(2,2) BPF_FILTER(tcp port 80) PKT_COUNTER()';
    expect(fns('(device,expr=eth0) > (sampler,expr=2) > (BPF,expr="tcp port 80") > (packetcount)')).toEqual([want]);
    expect(b.flows.map((f) => f.steps.map((s) => `${s.fn}(${s.args.join(',')})`).join(' '))).toEqual([want]);
    expect(a.flows[0]!.text).toBe('(device,expr=eth0) > (sampler,expr=2) > (BPF,expr="tcp port 80") > (packetcount)');
  });

  it('maps classes, defaults, named arguments, constants and raw MAPI names', () => {
    expect(fns('(strsearch,"GET ") > (strsearch, \'a\\|b\', depth=9) > (hash) > (pktinfo, PKT_SIZE) > (sampler, 10, PROBABILISTIC) > (PKT_COUNTER) > (TO_BUFFER, 1)'))
      .toEqual(['STR_SEARCH(GET ,0,0) STR_SEARCH(a\\|b,0,9) HASH(0) PKTINFO(1) SAMPLE(10,3) PKT_COUNTER() TO_BUFFER(1)']);
  });

  it('expands [a | b] groups into one flow per path, sharing the prefix and the suffix', () => {
    expect(fns('(device,eth0) > (bpf,tcp) > [(packetcount) | (strsearch,x) > (bytecount) | [(gap) | (hash,1)]] > (pktcount)')).toEqual([
      'BPF_FILTER(tcp) PKT_COUNTER() PKT_COUNTER()',
      'BPF_FILTER(tcp) STR_SEARCH(x,0,0) BYTE_COUNTER() PKT_COUNTER()',
      'BPF_FILTER(tcp) GAP() PKT_COUNTER()',
      'BPF_FILTER(tcp) HASH(1) PKT_COUNTER()',
    ]);
  });

  // Random graphs against an independent expansion of the same tree.
  type Tree = { node: number } | { group: Tree[][] };
  const tree: fc.Arbitrary<Tree[]> = fc.letrec((tie) => ({
    path: fc.array(tie('elem'), { minLength: 1, maxLength: 3 }),
    elem: fc.oneof({ depthSize: 'small', withCrossShrink: true },
      fc.record({ node: fc.nat(50) }),
      fc.record({ group: fc.array(tie('path'), { minLength: 1, maxLength: 3 }) })),
  })).path as fc.Arbitrary<Tree[]>;
  const render = (p: Tree[], arrow: boolean): string => p.map((e) => ('node' in e ? `(hash, ${e.node % 4})` : `[ ${e.group.map((q) => render(q, arrow)).join(' | ')} ]`)).join(arrow ? ' -> ' : ' > ');
  const paths = (p: Tree[]): number[][] => p.reduce<number[][]>((acc, e) => {
    const opts = 'node' in e ? [[e.node % 4]] : e.group.flatMap(paths);
    return acc.flatMap((a) => opts.map((o) => [...a, ...o]));
  }, [[]]);

  it('expands random nested groups as a plain expansion does', () => {
    fc.assert(fc.property(tree, fc.boolean(), (t, arrow) => {
      const want = paths(t);
      const src = render(t, arrow);
      if (want.length > MAX_FLOWS) { expect(() => compileChain(src)).toThrow(CompileError); return; }
      expect(compileChain(src).flows.map((f) => f.steps.map((s) => s.args[0]))).toEqual(want);
    }), { numRuns: 200 });
  });

  it('reports errors at file:line:col with a caret', () => {
    expect(errorOf('(device, eth0)\n  > (sampler, every)\n', 'g.graph')).toBe([
      'g.graph:2:15: error: the value argument of sampler must be an integer, not "every"',
      '    > (sampler, every)', '                ^~~~~',
      '  expected an integer, PERIODIC, PROBABILISTIC, PKT_TS, PKT_SIZE, WAIT, NOWAIT'].join('\n'));
    expect(errorOf('(device,eth0) -> (bpf,tcp) > (packetcount)')).toMatch(/^<input>:1:28: error: this graph uses "->" between nodes; ">" here mixes the two forms/);
    expect(errorOf('(bpf, "tcp) > (x)')).toMatch(/^<input>:1:7: error: this string is not closed/);
    expect(errorOf('(bpf, tcp) > ')).toMatch(/^<input>:1:14: error: expected "\[" or "\(" but found end of input/);
    expect(errorOf('(bpf, tcp) > [(x) | ]')).toMatch(/^<input>:1:21: error: expected/);
    expect(errorOf('(packetcount) > (device, eth0)')).toMatch(/^<input>:1:17: error: a \(device, …\) node may only start the graph/);
    expect(errorOf('(device, eth0)')).toMatch(/this path has no function after the device/);
    expect(errorOf('(strsearch)')).toMatch(/^<input>:1:11: error: strsearch needs its pattern argument/);
    expect(errorOf('(packetcount, 3)')).toMatch(/^<input>:1:15: error: packetcount takes no arguments/);
    expect(errorOf('(sampler, 2, size=3)')).toMatch(/^<input>:1:14: error: sampler has no argument named size/);
    expect(errorOf('(device,eth0) -> (sampler,2,big)')).toMatch(/^<input>:1:29: error: the size field must be a number/);
    expect(errorOf('[(a) | (b)] > [(a) | (b)] > [(a) | (b)] > [(a) | (b)] > [(a) | (b)] > [(a) | (b)] > [(a) | (b)] > [(a) | (b)] > [(a) | (b)]'))
      .toMatch(/more than 256 paths/);
  });

  it('refuses any input with a CompileError, never a crash or a hang', () => {
    const alphabet = fc.constantFrom('(', ')', '[', ']', '|', ',', '>', '->', '=', '"', "'", 'bpf', 'x', '1', ' ', '\n', '#', '-', 'expr');
    fc.assert(fc.property(fc.array(alphabet, { maxLength: 40 }), (parts) => {
      try { compileChain(parts.join('')); } catch (e) { expect(e).toBeInstanceOf(CompileError); }
    }), { numRuns: 500 });
    expect(() => compileChain('['.repeat(10000))).toThrow(/nested deeper/);
  });
});
