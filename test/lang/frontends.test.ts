/**
 * The table of front ends (vm/frontends.ts) and the decisions made from parsed data: which
 * externs an FPL program calls (the parser's report, not a search of the text) and which
 * MAPI externs a module needs (its metadata's extern list, not a search of its bytes).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SNAPLEN, FRONT_ENDS, LANGUAGES, filterCompilers, isLanguage, loadFrontEnd } from '../../vm/frontends.js';
import { parseFplSource } from '../../lang/fpl/index.js';
import { compileFilter, lowerSource } from '../../vm/compile.js';
import { loadFilter } from '../../vm/load.js';
import { CompileError } from '../../lang/diagnostics.js';

describe('front-end table', () => {
  it('has one entry per language, named by it', () => {
    expect(Object.keys(FRONT_ENDS).sort()).toEqual([...LANGUAGES].sort());
    for (const l of LANGUAGES) expect(FRONT_ENDS[l].language).toBe(l);
    expect(isLanguage('pcap')).toBe(true);
    expect(isLanguage('bpf')).toBe(false);
  });

  it('lowers each language with the link type and snaplen it is given', async () => {
    const pcap = await loadFrontEnd('pcap');
    const printed = (p: unknown) => JSON.stringify(p);
    expect(printed(pcap('tcp', { linkType: 1 }).program)).toContain(String(DEFAULT_SNAPLEN));
    expect(printed(pcap('tcp', { linkType: 1, snaplen: 96 }).program.body)).toContain('"v":96');
    expect(pcap('tcp', { linkType: 1, memoryCells: 16, fuel: 3 }).program).toMatchObject({ memoryCells: 16, fuel: 3, linkType: 1 });
    const fpl = await loadFrontEnd('fpl');
    expect(fpl('RETURN 1;', { linkType: 113 }).program.linkType).toBe(113);
    const cbpf = await loadFrontEnd('cbpf');
    expect(cbpf('1\n6 0 0 65535\n', { linkType: 1 }).program.linkType).toBe(1);
    // The same table builds BPF_FILTER's and FPL_FILTER's compilers.
    const c = filterCompilers({ pcap, fpl }, 1234);
    expect(printed(c.compilePcap('udp', 1).body)).toContain('"v":1234');
    expect(c.compileFpl('EXTERN("GetDynTCPDPortFromRTSP", 0, 1); RETURN M[1];', 1).externs.map((x) => x.name)).toEqual(['GetDynTCPDPortFromRTSP']);
  });
});

describe('decisions from parsed data', () => {
  it('the FPL parser reports the externs a program calls, wherever they are, and not those in comments', () => {
    const p = parseFplSource('// EXTERN("InComment")\nIF (EXTERN("A", 1) > 0) THEN R[0] = EXTERN("B"); FI FOR (R[1] = 0; R[1] < 2; R[1]++) EXTERN("C", 0, 1); ROF RETURN EXTERN("A");');
    expect(p.externNames).toEqual(['A', 'B', 'C']);
    expect(parseFplSource('RETURN 1; /* EXTERN("X") */').externNames).toEqual([]);
  });

  it('loads MAPI externs for a program that calls one, and only the shipped ones otherwise', async () => {
    // REGEXP keeps a JavaScript part: the module's metadata names it, and loading the bytes alone finds it there.
    const withMapi = await compileFilter('RETURN EXTERN("REGEXP", "GET");');
    expect(withMapi.meta.externs.map((x) => x.name)).toEqual(['mapi:REGEXP']);
    const again = await loadFilter(withMapi.wasm);
    expect(again.meta.externs.map((x) => x.name)).toEqual(['mapi:REGEXP']);
    // PKT_COUNTER is IR only: nothing is left to load.
    expect((await lowerSource('R[0] = EXTERN("PKT_COUNTER"); RETURN 1;')).program.externs).toEqual([]);
    const plain = await lowerSource('// EXTERN("PKT_COUNTER")\nRETURN 1;');
    expect(plain.program.externs).toEqual([]);
    // An unknown name lists every extern available, MAPI functions included.
    await expect(lowerSource('RETURN EXTERN("NOPE");')).rejects.toThrow(CompileError);
    await expect(lowerSource('RETURN EXTERN("NOPE");')).rejects.toThrow(/PKT_COUNTER/);
  });
});
