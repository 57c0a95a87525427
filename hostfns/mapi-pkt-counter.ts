/** PKT_COUNTER() — counts the packets that reach it; result: u64. */
import { c } from '../lang/ir/ir.js';
import { add64, read64, type MapiFunctionDef } from './lib/types.js';

export const PKT_COUNTER: MapiFunctionDef<null> = {
  name: 'PKT_COUNTER',
  argdescr: '',
  filters: false,
  summary: 'counts packets (u64)',
  instance: () => ({ ok: true, config: null }),
  stateWords: () => 2,
  lower: (_config, at) => add64(at.stateBase, c(1), at.local()),
  result: (_config, state) => ({ res: read64(state, 0), size: 8 }),
};
