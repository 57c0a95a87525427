/**
 * TRACK_FTP() — trackflib's FTP tracker (spec §2.3): a filter passing the FTP control
 * connections (TCP port 21, either side) and the data connections announced on them, in both
 * directions. IPv4 only; non-first fragments carry no TCP header and do not pass.
 *
 * Announcements (hostfns/lib/ftp-announce.ts): PORT and EPRT from the client, the 227 (PASV) and
 * 229 (EPSV) replies from the server. Each one enters a data endpoint (address, port) paired
 * with the peer expected at the other end (the control segment's destination) into a table of
 * DATA_SLOTS entries in the instance's S[] words. A TCP packet passes when its
 * (source, source port, destination) or (destination, destination port, source) is an entry.
 *
 * Expiry: an entry not seen for more than 60 s (capture time, exact to the sub-second unit)
 * is dropped. Close: once a FIN has been seen from each side (FIN/ACK ×2), the next segment of
 * that connection without FIN (the final ACK) passes and removes the entry. A repeated
 * announcement of the same endpoint and peer refreshes its entry; when the table is full, the
 * entry seen least recently is replaced.
 *
 * Per packet everything runs in IR; the control payload parse is a JS extern, called only for
 * port-21 segments that carry a payload.
 */
import { bin, c, land, lnot, lor, load, seq, type Expr, type Stmt } from '../lang/ir/ir.js';
import { linkTypeInfo } from '../lang/ir/linktypes.js';
import { parseFtpAnnouncement, type FtpEndpoint } from './lib/ftp-announce.js';
import { isIpv4 } from './mapi-protinfo.js';
import { s, setS, type MapiFunctionDef } from './lib/types.js';

export const DATA_SLOTS = 32;
export const IDLE_SECONDS = 60;
export const FTP_CONTROL_PORT = 21;

// Words of one table entry; PORT 0 marks a free slot.
const PORT = 0, ADDR = 1, PEER = 2, SEEN_SEC = 3, SEEN_FRAC = 4, FINS = 5, SLOT_WORDS = 6;
const FIN = 0x01, ACK = 0x10;
const FIN_FROM_ENDPOINT = 1, FIN_FROM_PEER = 2;

const L = (n: number): Expr => ({ k: 'local', n });
const setL = (n: number, value: Expr): Stmt => ({ k: 'setlocal', n, value });
const eq = (a: Expr, b: Expr): Expr => bin('eq', a, b);
const tsSec: Expr = { k: 'meta', m: 'tssec' };
const tsFrac: Expr = { k: 'meta', m: 'tsfrac' };

export const TRACK_FTP: MapiFunctionDef<null> = {
  name: 'TRACK_FTP',
  argdescr: '',
  filters: true,
  library: 'trackflib',
  summary: 'passes FTP control connections (port 21) and the data connections announced on them (PORT, PASV, EPRT, EPSV)',
  instance: () => ({ ok: true, config: null }),
  stateWords: () => DATA_SLOTS * SLOT_WORDS,
  lower: (_config, at) => {
    const l3 = linkTypeInfo(at.linkType)?.l3 ?? 0;
    const slot = (i: number, word: number): number => at.stateBase + i * SLOT_WORDS + word;
    const [l4, sport, dport, src, dst, flags, pay, end, port, addr, matched, dir, idle, pick, oldest] =
      Array.from({ length: 15 }, () => at.local());

    // One announcement parse per control segment; the address is read by a second extern.
    const found: FtpEndpoint = { addr: 0, port: 0 };
    const parse = at.externCall('TRACK_FTP.parse', (ctx, [from, to, fromServer, sender]) => {
      const stop = Math.min(to!, ctx.caplen);
      if (from! >= stop) return 0;
      const base = ctx.offset;
      return parseFtpAnnouncement(ctx.bytes, base + from!, base + stop, fromServer === 1, sender!, found) ? found.port : 0;
    }, [L(pay), L(end), eq(L(sport), c(FTP_CONTROL_PORT)), L(src)]);
    const announcedAddr = at.externCall('TRACK_FTP.addr', () => found.addr, []);

    /** Entry i has not been seen for more than IDLE_SECONDS (a time before it counts as expired too). */
    const expired = (i: number): Stmt => seq(
      setL(idle, bin('sub', tsSec, s(slot(i, SEEN_SEC)))),
      setL(idle, lor(land(bin('gt', L(idle), c(IDLE_SECONDS)), bin('lt', L(idle), c(0x80000000))),
        land(eq(L(idle), c(IDLE_SECONDS)), bin('gt', tsFrac, s(slot(i, SEEN_FRAC)))))),
    );

    // ---- data packets: look the endpoints up ----
    const lookup: Stmt[] = [];
    for (let i = 0; i < DATA_SLOTS; i++) {
      const p = s(slot(i, PORT)), a = s(slot(i, ADDR)), q = s(slot(i, PEER));
      const forward = land(eq(p, L(sport)), land(eq(a, L(src)), eq(q, L(dst))));
      const backward = land(eq(p, L(dport)), land(eq(a, L(dst)), eq(q, L(src))));
      lookup.push({
        k: 'if', cond: land(lnot(L(matched)), land(bin('ne', p, c(0)), lor(forward, backward))),
        then: seq(
          expired(i),
          {
            k: 'if', cond: L(idle), then: setS(slot(i, PORT), c(0)),
            else: seq(
              setL(matched, c(1)),
              setL(dir, { k: 'cond', c: land(eq(a, L(src)), eq(p, L(sport))), a: c(FIN_FROM_ENDPOINT), b: c(FIN_FROM_PEER) }),
              setS(slot(i, SEEN_SEC), tsSec),
              setS(slot(i, SEEN_FRAC), tsFrac),
              {
                k: 'if', cond: bin('and', L(flags), c(FIN)), then: setS(slot(i, FINS), bin('or', s(slot(i, FINS)), L(dir))),
                else: { k: 'if', cond: land(eq(s(slot(i, FINS)), c(FIN_FROM_ENDPOINT | FIN_FROM_PEER)), bin('and', L(flags), c(ACK))), then: setS(slot(i, PORT), c(0)) },
              },
            ),
          },
        ),
      });
    }
    lookup.push({ k: 'if', cond: lnot(L(matched)), then: at.exitFlow });

    // ---- control packets with an announcement: enter (port, addr, peer = dst) ----
    const NONE = DATA_SLOTS;
    const same: Stmt[] = [setL(pick, c(NONE))];
    const free: Stmt[] = [];
    const leastRecent: Stmt[] = [setL(pick, c(0)), setL(oldest, s(slot(0, SEEN_SEC)))];
    const write: Stmt[] = [];
    for (let i = DATA_SLOTS - 1; i >= 0; i--) {
      same.push({ k: 'if', cond: land(eq(s(slot(i, PORT)), L(port)), land(eq(s(slot(i, ADDR)), L(addr)), eq(s(slot(i, PEER)), L(dst)))), then: setL(pick, c(i)) });
      free.push(expired(i), { k: 'if', cond: lor(eq(s(slot(i, PORT)), c(0)), L(idle)), then: setL(pick, c(i)) });
    }
    for (let i = 1; i < DATA_SLOTS; i++) {
      leastRecent.push({ k: 'if', cond: bin('lt', s(slot(i, SEEN_SEC)), L(oldest)), then: seq(setL(pick, c(i)), setL(oldest, s(slot(i, SEEN_SEC)))) });
    }
    for (let i = 0; i < DATA_SLOTS; i++) {
      write.push({
        k: 'if', cond: eq(L(pick), c(i)), then: seq(
          setS(slot(i, PORT), L(port)), setS(slot(i, ADDR), L(addr)), setS(slot(i, PEER), L(dst)),
          setS(slot(i, SEEN_SEC), tsSec), setS(slot(i, SEEN_FRAC), tsFrac), setS(slot(i, FINS), c(0)),
        ),
      });
    }
    const enter = seq(
      ...same,
      { k: 'if', cond: eq(L(pick), c(NONE)), then: seq(...free) },
      { k: 'if', cond: eq(L(pick), c(NONE)), then: seq(...leastRecent) },
      ...write,
    );

    const control = seq(
      setL(pay, bin('add', L(l4), bin('mul', bin('shr', load(bin('add', L(l4), c(12)), 1), c(4)), c(4)))),
      setL(end, bin('add', c(l3), load(l3 + 2, 2))),
      {
        k: 'if', cond: bin('gt', L(end), L(pay)), then: seq(
          setL(port, parse),
          { k: 'if', cond: bin('ne', L(port), c(0)), then: seq(setL(addr, announcedAddr), enter) },
        ),
      },
    );

    return seq(
      // IPv4, TCP, first fragment; any load past the captured bytes leaves the flow.
      { k: 'if', cond: lnot(isIpv4(at.linkType)), then: at.exitFlow },
      { k: 'if', cond: lor(bin('ne', load(l3 + 9, 1), c(6)), bin('ne', bin('and', load(l3 + 6, 2), c(0x1fff)), c(0))), then: at.exitFlow },
      setL(l4, bin('add', c(l3), bin('mul', bin('and', load(l3, 1), c(0xf)), c(4)))),
      setL(sport, load(L(l4), 2)),
      setL(dport, load(bin('add', L(l4), c(2)), 2)),
      setL(flags, load(bin('add', L(l4), c(13)), 1)),
      setL(src, load(l3 + 12, 4)),
      setL(dst, load(l3 + 16, 4)),
      { k: 'if', cond: lor(eq(L(sport), c(FTP_CONTROL_PORT)), eq(L(dport), c(FTP_CONTROL_PORT))), then: control, else: seq(...lookup) },
    );
  },
};
