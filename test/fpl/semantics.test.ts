/**
 * What lowered FPL programs do, run through the IR's reference interpreter on hand-built packets.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../support/env.js';
import { newState, runPacket } from '../../lang/ir/interp.js';
import { compile, ethIp4, fnv1a32, result1, run } from './helpers.js';

const sample = (name: string): string => readFileSync(resolve(projectRoot, 'samples', name), 'utf8');

describe('operators', () => {
  it('C precedence and associativity', () => {
    expect(result1('RETURN 1 + 2 * 3;')).toBe(7);
    expect(result1('RETURN 10 - 4 - 3;')).toBe(3);
    expect(result1('RETURN 64 / 4 / 2;')).toBe(8);
    expect(result1('RETURN 1 << 2 + 1;')).toBe(8);
    expect(result1('RETURN 6 & 3 == 3;')).toBe(0); // == binds tighter than &: 6 & (3 == 3) = 6 & 1
    expect(result1('RETURN 1 | 2 ^ 3 & 1;')).toBe(1 | (2 ^ (3 & 1)));
    expect(result1('RETURN 2 < 3 == 1;')).toBe(1);
    expect(result1('RETURN 0 || 2 && 3;')).toBe(1);
    expect(result1('RETURN -2 * 3 + 7;')).toBe(1);
    expect(result1('RETURN !0 + ~0;')).toBe(0); // 1 + 0xffffffff wraps
    expect(result1('RETURN (1 + 2) * 3;')).toBe(9);
  });

  it('u32 wrap-around, unsigned compare, division and shift', () => {
    expect(result1('RETURN 0 - 1;')).toBe(0xffffffff);
    expect(result1('RETURN 0xffffffff + 2;')).toBe(1);
    expect(result1('RETURN 0xffffffff * 0xffffffff;')).toBe(1);
    expect(result1('RETURN (0 - 1) > 1;')).toBe(1);
    expect(result1('RETURN -1 / 2;')).toBe(0x7fffffff);
    expect(result1('RETURN -1 % 10;')).toBe(0xffffffff % 10);
    expect(result1('RETURN -1 >> 28;')).toBe(0xf);
    expect(result1('RETURN 1 << 32;')).toBe(0);
    expect(result1('R[0] = 7; RETURN R[0] / 0;')).toBe(0);
  });

  it('&& and || short-circuit and yield 0/1', () => {
    expect(result1('RETURN 5 && 9;')).toBe(1);
    expect(result1('RETURN 0 && 1 / 0;', new Uint8Array(4))).toBe(0);
    // the right side would fault (read past the packet); || never evaluates it
    expect(result1('IF (1 || PKT.B[100]) THEN RETURN 3; FI', new Uint8Array(4))).toBe(3);
  });

  it('literals: hex, TRUE/FALSE, dotted quads in network order, constants', () => {
    expect(result1('RETURN 0x1F + TRUE + false;')).toBe(32);
    expect(result1('RETURN 10.0.0.1;')).toBe(0x0a000001);
    expect(result1('RETURN PROTO_SCTP + PROTO_ICMP6 + ETH_VLAN + FLAG_CWR;')).toBe(132 + 58 + 0x8100 + 128);
    expect(run('IF (PKT.IP_SRC == 10.1.2.3) THEN RETURN 1; FI', [ethIp4({ src: 0x0a010203 }), ethIp4()]).results).toEqual([1, 0]);
  });
});

describe('packet access', () => {
  const bytes = Uint8Array.from([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc]);
  it('raw loads are big-endian at frame offsets; LEN and WIRELEN', () => {
    expect(result1('RETURN PKT.B[1];', bytes)).toBe(0x34);
    expect(result1('RETURN PKT.W[1];', bytes)).toBe(0x3456);
    expect(result1('RETURN PKT.DW[2];', bytes)).toBe(0x56789abc);
    expect(result1('RETURN PKT.DW[3] + 1;', bytes)).toBe(0); // past the captured length
    expect(result1('RETURN PKT.LEN;', bytes)).toBe(6);
    const p = compile('RETURN PKT.WIRELEN * 1000 + PKT.LEN;');
    expect(runPacket(p, newState(p), bytes, 1514).result).toBe(1514 * 1000 + 6);
  });

  it('sub-fields count from the most significant end', () => {
    expect(result1('RETURN PKT.W[0].U4[1];', bytes)).toBe(0x2);
    expect(result1('RETURN PKT.W[0].U4[0];', bytes)).toBe(0x1);
    expect(result1('RETURN PKT.W[0].U4[3];', bytes)).toBe(0x4);
    expect(result1('RETURN PKT.B[4].U1[0];', bytes)).toBe(1);  // 0x9a = 1001 1010
    expect(result1('RETURN PKT.B[4].U1[1];', bytes)).toBe(0);
    expect(result1('RETURN PKT.B[4].U1[7];', bytes)).toBe(0);
    expect(result1('RETURN PKT.B[4].U1[6];', bytes)).toBe(1);
    expect(result1('RETURN PKT.DW[0].U8[2];', bytes)).toBe(0x56);
    expect(result1('RETURN PKT.DW[0].U16[1];', bytes)).toBe(0x5678);
    expect(result1('RETURN PKT.DW[0].U16[0];', bytes)).toBe(0x1234);
    expect(result1('RETURN PKT.B[0].U8[0];', bytes)).toBe(0x12);
  });

  it('named fields', () => {
    const p = ethIp4({ proto: 17, sport: 53, dport: 4000 });
    expect(result1('RETURN PKT.IP_PROTO;', p)).toBe(17);
    expect(result1('RETURN PKT.UDP_SPORT * 65536 + PKT.UDP_DPORT;', p)).toBe(53 * 65536 + 4000);
    expect(result1('RETURN PKT.ETH_TYPE == ETH_IP && PKT.IP_VER == 4 && PKT.IP_HL == 5;', p)).toBe(1);
    expect(result1('RETURN PKT.IP_DEST == PKT.IP_DST;', p)).toBe(1);
    expect(result1('RETURN PKT.PAYLOAD_OFF;', p)).toBe(14 + 20 + 8);
    expect(result1('RETURN PKT.TCP_FLAGS & FLAG_ACK;', ethIp4({ flags: 0x12 }))).toBe(16);
  });

  it('IP fields on raw IP start at offset 0', () => {
    const p = ethIp4({ proto: 6 }).subarray(14);
    expect(run('RETURN PKT.IP_PROTO;', [p], { linkType: 101 }).results).toEqual([6]);
  });

  it('TCP_PORT: source first, so a packet cut after the source port still matches by source', () => {
    const full = ethIp4({ sport: 80, dport: 5000 });
    const cut = full.subarray(0, 14 + 20 + 2); // source port present, destination port missing
    const cutOther = ethIp4({ sport: 81, dport: 80 }).subarray(0, 14 + 20 + 2);
    const prog = 'IF (PKT.TCP_PORT == 80) THEN RETURN 1; FI RETURN 2;';
    expect(run(prog, [full, cut, cutOther, ethIp4({ sport: 7, dport: 80 }), ethIp4({ sport: 7, dport: 8 })]).results)
      .toEqual([1, 1, 0, 1, 2]);
    // written destination-first the cut packet faults instead
    expect(run('IF (PKT.TCP_DPORT == 80 || PKT.TCP_SPORT == 80) THEN RETURN 1; FI RETURN 2;', [cut]).results).toEqual([0]);
    // != : both directions differ; source compared first
    const ne = 'IF (PKT.TCP_PORT != 80) THEN RETURN 1; FI RETURN 2;';
    expect(run(ne, [ethIp4({ sport: 7, dport: 8 }), ethIp4({ sport: 7, dport: 80 }), cut, cutOther]).results).toEqual([1, 2, 2, 0]);
    // the pseudo-field on the right, and IP_ADDR
    expect(run('RETURN 80 == PKT.TCP_PORT;', [full]).results).toEqual([1]);
    expect(run('RETURN PKT.IP_ADDR == 10.0.0.2;', [ethIp4(), ethIp4({ dst: 1 })]).results).toEqual([1, 0]);
  });
});

describe('state and control', () => {
  it('++, -- and compound assignment on M and R persist across packets', () => {
    const { state } = run('M[3]++; M[3]++; M[4]--; R[2] += 5; R[2] <<= 1; M[R[2]] |= 6;', [new Uint8Array(1), new Uint8Array(1)]);
    expect(state.memory[3]).toBe(4);
    expect(state.memory[4]).toBe(0xfffffffe);
    expect(state.registers[2]).toBe(30);
    expect(state.memory[10]).toBe(6);
    expect(state.memory[30]).toBe(6);
  });

  it('M[e] op= v evaluates a packet-dependent index once, and masks it', () => {
    const { state, program } = run('M[PKT.B[0] + 1024] += PKT.B[1];', [Uint8Array.from([5, 7]), Uint8Array.from([5, 2])]);
    expect(state.memory[5]).toBe(9);
    expect(program.locals).toBe(1);
  });

  it('FOR with BREAK, counting down, stepping by a constant', () => {
    expect(result1('FOR (R[1] = 0; R[1] < 100; R[1]++) IF (R[1] == 5) THEN BREAK; FI R[2] += R[1]; ROF RETURN R[2] * 1000 + R[1];'))
      .toBe(10 * 1000 + 5);
    expect(result1('FOR (R[1] = 10; R[1] > 0; R[1]--) R[2] += 1; ROF RETURN R[2];')).toBe(10);
    expect(result1('FOR (R[1] = 0; R[1] <= 20; R[1] += 5) R[2] += R[1]; ROF RETURN R[2];')).toBe(0 + 5 + 10 + 15 + 20);
    expect(result1('FOR (R[1] = 20; R[1] != 2; R[1] -= 3) R[2] += 1; ROF RETURN R[2];')).toBe(6);
  });

  it('a loop that never ends runs out of fuel and returns 0', () => {
    const { results, state } = run('FOR (R[1] = 0; R[1] >= 0; R[1]++) ROF RETURN 1;', [new Uint8Array(1)], { fuel: 1000 });
    expect(results).toEqual([0]);
    expect(state.fuelExhausted).toBe(1);
  });

  it('falling off the end returns 0; RETURN ends at once', () => {
    expect(result1('R[0] = 1;')).toBe(0);
    expect(result1('RETURN 4; RETURN 5;')).toBe(4);
  });

  it('Hash is FNV-1a over frame bytes modulo the range', () => {
    const p = ethIp4({ src: 0xc0a80001, dst: 0xc0a80002, sport: 1000, dport: 2000 });
    const { results } = run('RETURN Hash[14, 12, 1024];', [p]);
    expect(results[0]).toBe(fnv1a32(p.subarray(14, 26)) % 1024);
    expect(result1('RETURN HASH(0, 4, 0xffffffff);', p)).toBe(fnv1a32(p.subarray(0, 4)) % 0xffffffff);
    expect(result1('R[0] = 0; RETURN 1 + Hash(0, 4, R[0]);', p)).toBe(1); // a runtime range of 0 gives 0
  });
});

describe('programs from the spec', () => {
  it('web: TCP to or from port 80', () => {
    const packets = [ethIp4({ sport: 80 }), ethIp4({ dport: 80 }), ethIp4({ sport: 1, dport: 2 }), ethIp4({ proto: 17, dport: 80 })];
    expect(run(sample('web.fpl'), packets).results).toEqual([1, 1, 0, 0]);
  });

  it('flowcount: one M cell per TCP flow hash', () => {
    const a = ethIp4({ sport: 1000, dport: 80 });
    const b = ethIp4({ sport: 1001, dport: 80 });
    const u = ethIp4({ proto: 17 });
    const { state } = run(sample('flowcount.fpl'), [a, a, b, u, a]);
    const cell = (p: Uint8Array): number => fnv1a32(p.subarray(14, 26)) % 1024;
    const expected = new Map<number, number>();
    for (const p of [a, a, b, a]) expected.set(cell(p), (expected.get(cell(p)) ?? 0) + 1);
    for (const [i, n] of expected) expect(state.memory[i]).toBe(n);
    expect(state.memory.reduce((s, x) => s + x, 0)).toBe(4);
  });

  it('rtsp-dynports: learns ports from RTSP packets and then matches them', () => {
    const ext = [{ name: 'GetDynTCPDPortFromRTSP', inCells: 0, outCells: 0 }];
    const rtsp = ethIp4({ dport: 554 });
    const ports = [6970, 7000];
    let call = 0;
    const callExtern = (id: number): number => (id === 0 ? ports[call++]! : 0);
    const { results, state } = run(sample('rtsp-dynports.fpl'),
      [rtsp, rtsp, ethIp4({ dport: 7000 }), ethIp4({ dport: 6970 }), ethIp4({ dport: 6971 }), ethIp4({ proto: 17, dport: 7000 })],
      { externs: ext, callExtern });
    expect(results).toEqual([0, 0, 1, 1, 0, 0]);
    expect(state.registers[0]).toBe(2);
    expect([state.memory[0], state.memory[1]]).toEqual(ports);
  });
});
