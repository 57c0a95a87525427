/** BYTE_COUNTER() — sums the wire length (not the captured length) of the packets that reach it; result: u64. */
import { add64, read64, type MapiFunctionDef } from './lib/types.js';

export const BYTE_COUNTER: MapiFunctionDef<null> = {
  name: 'BYTE_COUNTER',
  argdescr: '',
  filters: false,
  summary: 'sums wire lengths (u64)',
  instance: () => ({ ok: true, config: null }),
  stateWords: () => 2,
  lower: (_config, at) => add64(at.stateBase, { k: 'meta', m: 'wirelen' }, at.local()),
  result: (_config, state) => ({ res: read64(state, 0), size: 8 }),
};
