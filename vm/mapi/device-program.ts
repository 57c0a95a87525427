/**
 * The device program: a pure function of the active flows' chains of function instances and
 * the device's layout (where each instance's S[] words, registers and M[] cells are). Per
 * packet it does, for each flow F_i in order, `block F_i { step_1; step_2; … }`, where a step
 * that rejects the packet exits F_i, and a fault inside F_i leaves F_i only (`catchFaults`).
 *
 * Building a program reads and writes no device state; the device compiles what this returns
 * (vm/mapi/device.ts), and test/mapi/device-program.test.ts runs it through the reference
 * interpreter and the compiled module.
 */
import { bin, c, type Extern, type Program, type Stmt } from '../../lang/ir/ir.js';
import { add64 as add64State, type MapiFunctionDef, type MapiLowerContext } from '../../hostfns/lib/types.js';
import { MAX_REGISTERS, type ExternImpl } from '../../abi/index.js';
import { inlineProgram } from './inline.js';
import { DEVICE_FUEL, DEVICE_MEMORY_CELLS, DEVICE_STATE_WORDS, S_PACKETS, S_TSFRAC, S_TSSEC } from './layout.js';

/** What the program needs of a function instance: its definition, configuration and places. */
export interface ChainStep {
  readonly fid: number;
  readonly def: MapiFunctionDef<any>;
  readonly config: any;
  readonly stateBase: number;
  readonly regBase: number;
  readonly memBase: number;
  /** Four state words: packets that reached the function, packets it passed (u64 each). */
  readonly countersBase: number;
}

/** The device the program runs on: its link type and timestamps, and names for its externs. */
export interface DeviceProgramTarget {
  readonly linkType: number;
  readonly nanoseconds: boolean;
  /** Makes extern names unique across devices (`MAPI#id#fid#n#NAME`). */
  readonly deviceId: number;
  /** For extern summaries. */
  readonly deviceName: string;
}

export interface DeviceProgram { program: Program; externs: ExternImpl[] }

/**
 * The device program: the timestamp and packet count, then every chain in order (the active
 * flows' functions, in flow order).
 */
export function buildDeviceProgram(chains: readonly (readonly ChainStep[])[], target: DeviceProgramTarget): DeviceProgram {
  const b = programBuilder(target);
  const count = b.local();
  const body: Stmt[] = [
    { k: 'setstate', i: S_TSSEC, value: { k: 'meta', m: 'tssec' } },
    { k: 'setstate', i: S_TSFRAC, value: { k: 'meta', m: 'tsfrac' } },
    // The device's 64-bit packet count.
    { k: 'setlocal', n: count, value: bin('add', { k: 'state', i: S_PACKETS }, c(1)) },
    { k: 'if', cond: bin('eq', { k: 'local', n: count }, c(0)), then: { k: 'setstate', i: S_PACKETS + 1, value: bin('add', { k: 'state', i: S_PACKETS + 1 }, c(1)) } },
    { k: 'setstate', i: S_PACKETS, value: { k: 'local', n: count } },
  ];
  for (const chain of chains) body.push(b.flowBlock(chain, false));
  body.push({ k: 'return', value: c(1) });
  return b.finish(body);
}

/**
 * The program run on the units a function such as COOKING emits (`def.cooked`): for each such
 * instance, the steps after it in its chain, selected by the instance's first state word, which
 * is 1 while its units run (the device's drainCooked). Undefined when no such instance has steps after it.
 */
export function buildCookedProgram(chains: readonly (readonly ChainStep[])[], target: DeviceProgramTarget): DeviceProgram | undefined {
  const b = programBuilder(target);
  const body: Stmt[] = [];
  for (const chain of chains) {
    chain.forEach((inst, k) => {
      const rest = chain.slice(k + 1);
      if (!inst.def.cooked || rest.length === 0) return;
      body.push({ k: 'if', cond: { k: 'state', i: inst.stateBase }, then: b.flowBlock(rest) });
    });
  }
  if (body.length === 0) return undefined;
  body.push({ k: 'return', value: c(1) });
  return b.finish(body);
}

/** Lowers chains of function instances into one program: its locals, labels and externs. */
function programBuilder(target: DeviceProgramTarget) {
  const externs: ExternImpl[] = [];
  const programExterns: Extern[] = [];
  let locals = 0;
  let labels = 0;
  const local = () => locals++;
  /** `block F { step_1; step_2; … }` for one flow, catching faults. */
  const flowBlock = (instances: readonly ChainStep[], countFirstReached = true): Stmt => {
    const flowLabel = labels++;
    const steps: Stmt[] = [];
    for (const inst of instances) {
      let externCount = 0;
      const at: MapiLowerContext = {
        linkType: target.linkType,
        nanoseconds: target.nanoseconds,
        stateBase: inst.stateBase,
        regBase: inst.regBase,
        memBase: inst.memBase,
        exitFlow: { k: 'exit', label: flowLabel },
        local,
        inline: (p) => {
          const r = inlineProgram(p, {
            regBase: inst.regBase, localBase: locals, labelBase: labels, memBase: inst.memBase, stateBase: inst.stateBase, flowLabel,
            externId: (x) => programExterns.push({ ...x, config: [...x.config] }) - 1,
          });
          locals += r.locals;
          labels += r.labels;
          return r.step;
        },
        externCall: (name, call, args) => {
          const unique = `MAPI#${target.deviceId}#${inst.fid}#${externCount++}#${name}`;
          externs.push({ name: unique, summary: `${name} (fid ${inst.fid} on ${target.deviceName})`, call: (ctx, _config, a) => call(ctx, a) });
          const id = programExterns.push({ name: unique, config: [] }) - 1;
          return { k: 'extern', id, args };
        },
      };
      // MAPI's funcstats: packets passed, counted after the step (a filter that drops exits the
      // flow). Packets reaching a step are those its previous step passed (the device's
      // functionCounts), so only the first step of a cooked program's block counts its arrivals: the units.
      const reached = inst === instances[0] && countFirstReached ? [add64State(inst.countersBase, c(1), at.local())] : [];
      steps.push(...reached, inst.def.lower(inst.config, at), add64State(inst.countersBase + 2, c(1), at.local()));
    }
    return { k: 'block', label: flowLabel, body: { k: 'seq', body: steps }, catchFaults: true };
  };
  const finish = (body: Stmt[]): DeviceProgram => ({
    program: {
      body: { k: 'seq', body }, linkType: target.linkType, registers: MAX_REGISTERS, memoryCells: DEVICE_MEMORY_CELLS,
      locals, stateWords: DEVICE_STATE_WORDS, externs: programExterns, fuel: DEVICE_FUEL, source: { language: 'chain' },
    },
    externs,
  });
  return { local, flowBlock, finish };
}
