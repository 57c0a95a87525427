/**
 * The checks Linux applies to a classic BPF program before it runs it (net/core/filter.c:
 * bpf_check_basics_ok, bpf_check_classic with chk_code_allowed, check_load_and_stores), in the
 * same terms, plus the rejection of Linux-only loads, which have no meaning on a capture file.
 * Every error points at the instruction field at fault.
 */
import { makeDiagnostic, type Diagnostic } from '../diagnostics.js';
import {
  ALLOWED_CODES, BPF_ABS, BPF_ALU, BPF_DIV, BPF_IND, BPF_JA, BPF_JMP, BPF_K, BPF_LD, BPF_LDX, BPF_LSH, BPF_MAXINSNS,
  BPF_MEM, BPF_MEMWORDS, BPF_MOD, BPF_MSH, BPF_RSH, BPF_ST, BPF_STX, bpfClass, bpfMode, isCondJump, isRet, mnemonic,
  SKF_AD_NAMES, SKF_AD_OFF, SKF_LL_OFF, SKF_NET_OFF,
} from './opcodes.js';
import type { SourceInsn, Span } from './parse.js';

const FIELD = { code: 0, jt: 1, jf: 2, k: 3 } as const;

const isMemAccess = (code: number) =>
  code === (BPF_LD | BPF_MEM) || code === (BPF_LDX | BPF_MEM) || code === BPF_ST || code === BPF_STX;
const isAbsLoad = (code: number) => bpfClass(code) === BPF_LD && bpfMode(code) === BPF_ABS;

export function validateCbpf(insns: readonly SourceInsn[], text: string, file: string | undefined):
  { errors: Diagnostic[]; warnings: Diagnostic[] } {
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const extra = file !== undefined ? { file } : {};
  const at = (i: number, field: keyof typeof FIELD | 'insn'): Span => (field === 'insn' ? insns[i].at : insns[i].fields[FIELD[field]]);
  const err = (span: Span, message: string, hint?: string) =>
    errors.push(makeDiagnostic(text, 'error', span.offset, span.length, message, { ...extra, ...(hint ? { hint } : {}) }));
  const n = insns.length;

  if (n === 0) {
    err({ offset: 0, length: 1 }, 'a classic BPF program needs at least one instruction (it must end with a ret)');
    return { errors, warnings };
  }
  if (n > BPF_MAXINSNS) {
    err(at(BPF_MAXINSNS, 'insn'), `the program has ${n} instructions; classic BPF allows at most ${BPF_MAXINSNS} (BPF_MAXINSNS)`);
    return { errors, warnings };
  }

  for (let pc = 0; pc < n; pc++) {
    const { code, jt, jf, k } = insns[pc];
    const name = `instruction ${pc} (${mnemonic(code, k)})`;
    if (!ALLOWED_CODES.has(code)) {
      err(at(pc, 'code'), `instruction ${pc}: unknown or unsupported opcode 0x${code.toString(16).padStart(2, '0')}`,
        'classic BPF opcodes are the combinations Linux and libpcap accept (see pcap/bpf.h)');
      continue;
    }
    if (code === (BPF_ALU | BPF_DIV | BPF_K) || code === (BPF_ALU | BPF_MOD | BPF_K)) {
      if (k === 0) err(at(pc, 'k'), `${name}: ${code === (BPF_ALU | BPF_DIV | BPF_K) ? 'division' : 'modulo'} by the constant 0`);
    } else if (code === (BPF_ALU | BPF_LSH | BPF_K) || code === (BPF_ALU | BPF_RSH | BPF_K)) {
      if (k >= 32) err(at(pc, 'k'), `${name}: a constant shift must be 0..31, not ${k}`);
    } else if (isMemAccess(code)) {
      if (k >= BPF_MEMWORDS) err(at(pc, 'k'), `${name}: scratch memory index ${k} is out of range: there are ${BPF_MEMWORDS} cells, M[0]..M[15]`);
    } else if (code === (BPF_JMP | BPF_JA)) {
      if (k >= 0x80000000) {
        err(at(pc, 'k'), `${name}: a jump back by ${0x100000000 - k} instructions; classic BPF jumps only forward`,
          'libpcap emits backward jumps only for `protochain`, which Linux rejects too');
      } else if (k >= n - pc - 1) err(at(pc, 'k'), `${name}: the jump goes to instruction ${pc + 1 + k}, past the last instruction (${n - 1})`);
    } else if (isCondJump(code)) {
      if (pc + jt + 1 >= n) err(at(pc, 'jt'), `${name}: the true branch goes to instruction ${pc + 1 + jt}, past the last instruction (${n - 1})`);
      if (pc + jf + 1 >= n) err(at(pc, 'jf'), `${name}: the false branch goes to instruction ${pc + 1 + jf}, past the last instruction (${n - 1})`);
    } else if (isAbsLoad(code)) {
      if (k >= SKF_AD_OFF) {
        const field = SKF_AD_NAMES[k - SKF_AD_OFF];
        err(at(pc, 'k'), `${name}: a load from SKF_AD_OFF+${k - SKF_AD_OFF}${field ? ` (ancillary field "${field}")` : ''} reads Linux socket metadata; ` +
          'such ancillary loads are Linux-specific and not supported');
      } else if (k >= SKF_LL_OFF) {
        const base = k >= SKF_NET_OFF ? `SKF_NET_OFF+${k - SKF_NET_OFF}` : `SKF_LL_OFF+${k - SKF_LL_OFF}`;
        err(at(pc, 'k'), `${name}: a load from ${base} is a Linux-specific negative-offset load and is not supported`);
      }
    } else if ((bpfClass(code) === BPF_LD && bpfMode(code) === BPF_IND) || (bpfClass(code) === BPF_LDX && bpfMode(code) === BPF_MSH)) {
      if (k >= SKF_LL_OFF) {
        warnings.push(makeDiagnostic(text, 'warning', at(pc, 'k').offset, at(pc, 'k').length,
          `${name}: on Linux this offset is a negative-offset (SKF_*_OFF) load; here, as in libpcap, it is out of range and the filter returns 0`, extra));
      }
    }
  }
  if (!isRet(insns[n - 1].code) || !ALLOWED_CODES.has(insns[n - 1].code)) {
    err(at(n - 1, 'insn'), `the last instruction must be a ret (ret #k or ret a), found ${mnemonic(insns[n - 1].code, insns[n - 1].k)}`);
  }
  if (errors.length === 0) checkLoadsAfterStores(insns, err);
  return { errors, warnings };
}

/**
 * Linux's check_load_and_stores: a scratch cell may be read only when every path to the read
 * has stored it. One bit per cell; the set known at a jump is intersected into its targets.
 */
function checkLoadsAfterStores(insns: readonly SourceInsn[], err: (span: Span, message: string) => void): void {
  const n = insns.length;
  const masks = new Uint16Array(n).fill(0xffff);
  let valid = 0;
  for (let pc = 0; pc < n; pc++) {
    const { code, jt, jf, k } = insns[pc];
    valid &= masks[pc];
    if (code === BPF_ST || code === BPF_STX) valid |= 1 << k;
    else if (code === (BPF_LD | BPF_MEM) || code === (BPF_LDX | BPF_MEM)) {
      if (!(valid & (1 << k))) {
        err(insns[pc].fields[3], `instruction ${pc} (${mnemonic(code, k)}) reads scratch cell M[${k}] before it is stored on every path that reaches it`);
        return;
      }
    } else if (code === (BPF_JMP | BPF_JA)) {
      masks[pc + 1 + k] &= valid;
      valid = 0xffff;
    } else if (isCondJump(code)) {
      masks[pc + 1 + jt] &= valid;
      masks[pc + 1 + jf] &= valid;
      valid = 0xffff;
    }
  }
}
