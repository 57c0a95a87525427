/**
 * Classic BPF opcodes (pcap/bpf.h, linux/filter.h) and the set of instruction codes Linux's
 * classic checker allows (net/core/filter.c, chk_code_allowed). Codes are exact: a class/size/mode
 * combination outside this set (e.g. `ld #k` with a size bit) is rejected, as Linux does.
 */

// Instruction classes.
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_MISC = 0x07;

// Load sizes and modes.
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_LEN = 0x80;
export const BPF_MSH = 0xa0;

// ALU and jump operations, operand source.
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_K = 0x00;
export const BPF_X = 0x08;
export const BPF_A = 0x10;   // RET A
export const BPF_TAX = 0x00;
export const BPF_TXA = 0x80;

export const BPF_MAXINSNS = 4096;
export const BPF_MEMWORDS = 16;

// Linux-only load offsets (linux/filter.h): ancillary data and negative-offset packet loads.
export const SKF_AD_OFF = 0xfffff000;   // -0x1000
export const SKF_NET_OFF = 0xfff00000;  // -0x100000
export const SKF_LL_OFF = 0xffe00000;   // -0x200000

/** Ancillary field names by offset from SKF_AD_OFF (linux/filter.h), for messages. */
export const SKF_AD_NAMES: Record<number, string> = {
  0: 'protocol', 4: 'pkttype', 8: 'ifindex', 12: 'nlattr', 16: 'nlattr_nest', 20: 'mark', 24: 'queue',
  28: 'hatype', 32: 'rxhash', 36: 'cpu', 40: 'alu_xor_x', 44: 'vlan_tci', 48: 'vlan_avail', 52: 'pay_offset',
  56: 'random', 60: 'vlan_tpid',
};

const ALU_OPS = [BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH];
const COND_JUMPS = [BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET];

/** Every code chk_code_allowed accepts. */
export const ALLOWED_CODES: ReadonlySet<number> = new Set<number>([
  ...ALU_OPS.flatMap((op) => [BPF_ALU | op | BPF_K, BPF_ALU | op | BPF_X]),
  BPF_ALU | BPF_NEG,
  BPF_LD | BPF_W | BPF_ABS, BPF_LD | BPF_H | BPF_ABS, BPF_LD | BPF_B | BPF_ABS,
  BPF_LD | BPF_W | BPF_LEN,
  BPF_LD | BPF_W | BPF_IND, BPF_LD | BPF_H | BPF_IND, BPF_LD | BPF_B | BPF_IND,
  BPF_LD | BPF_IMM, BPF_LD | BPF_MEM,
  BPF_LDX | BPF_W | BPF_LEN, BPF_LDX | BPF_B | BPF_MSH, BPF_LDX | BPF_IMM, BPF_LDX | BPF_MEM,
  BPF_ST, BPF_STX,
  BPF_MISC | BPF_TAX, BPF_MISC | BPF_TXA,
  BPF_RET | BPF_K, BPF_RET | BPF_A,
  BPF_JMP | BPF_JA,
  ...COND_JUMPS.flatMap((op) => [BPF_JMP | op | BPF_K, BPF_JMP | op | BPF_X]),
]);

export const bpfClass = (code: number) => code & 0x07;
export const bpfSize = (code: number) => code & 0x18;
export const bpfMode = (code: number) => code & 0xe0;
export const bpfOp = (code: number) => code & 0xf0;
export const bpfSrc = (code: number) => code & 0x08;

export const isCondJump = (code: number) => bpfClass(code) === BPF_JMP && bpfOp(code) !== BPF_JA;
export const isRet = (code: number) => bpfClass(code) === BPF_RET;

/** A one-line mnemonic in the style of `tcpdump -d`, for messages. */
export function mnemonic(code: number, k: number): string {
  const hex = `0x${(k >>> 0).toString(16)}`;
  const size = ({ [BPF_W]: '', [BPF_H]: 'h', [BPF_B]: 'b' } as Record<number, string>)[bpfSize(code)] ?? '?';
  switch (code) {
    case BPF_LD | BPF_IMM: return `ld #${hex}`;
    case BPF_LDX | BPF_IMM: return `ldx #${hex}`;
    case BPF_LD | BPF_MEM: return `ld M[${k}]`;
    case BPF_LDX | BPF_MEM: return `ldx M[${k}]`;
    case BPF_LD | BPF_W | BPF_LEN: return 'ld #pktlen';
    case BPF_LDX | BPF_W | BPF_LEN: return 'ldx #pktlen';
    case BPF_LDX | BPF_B | BPF_MSH: return `ldxb 4*([${k}]&0xf)`;
    case BPF_ST: return `st M[${k}]`;
    case BPF_STX: return `stx M[${k}]`;
    case BPF_RET | BPF_K: return `ret #${k >>> 0}`;
    case BPF_RET | BPF_A: return 'ret a';
    case BPF_MISC | BPF_TAX: return 'tax';
    case BPF_MISC | BPF_TXA: return 'txa';
    case BPF_ALU | BPF_NEG: return 'neg';
    case BPF_JMP | BPF_JA: return `ja +${k >>> 0}`;
  }
  if (bpfClass(code) === BPF_LD && bpfMode(code) === BPF_ABS) return `ld${size} [${k >>> 0}]`;
  if (bpfClass(code) === BPF_LD && bpfMode(code) === BPF_IND) return `ld${size} [x + ${k >>> 0}]`;
  const operand = bpfSrc(code) === BPF_X ? 'x' : `#${hex}`;
  if (bpfClass(code) === BPF_ALU) {
    const name = ({ [BPF_ADD]: 'add', [BPF_SUB]: 'sub', [BPF_MUL]: 'mul', [BPF_DIV]: 'div', [BPF_MOD]: 'mod',
      [BPF_AND]: 'and', [BPF_OR]: 'or', [BPF_XOR]: 'xor', [BPF_LSH]: 'lsh', [BPF_RSH]: 'rsh' } as Record<number, string>)[bpfOp(code)];
    if (name) return `${name} ${operand}`;
  }
  if (bpfClass(code) === BPF_JMP) {
    const name = ({ [BPF_JEQ]: 'jeq', [BPF_JGT]: 'jgt', [BPF_JGE]: 'jge', [BPF_JSET]: 'jset' } as Record<number, string>)[bpfOp(code)];
    if (name) return `${name} ${operand}`;
  }
  return `opcode 0x${code.toString(16).padStart(2, '0')}`;
}
