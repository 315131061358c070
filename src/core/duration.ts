// Go's time.ParseDuration, which the peer applies to dial_timeout and fabric-builder-k8s to its start timeout.

const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** time.ParseDuration, in nanoseconds; throws with Go's message. */
export function parseGoDuration(s: string): number {
  const bad = (): Error => new Error(`time: invalid duration ${JSON.stringify(s)}`);
  let rest = s;
  let sign = 1;
  if (rest[0] === '-' || rest[0] === '+') { sign = rest[0] === '-' ? -1 : 1; rest = rest.slice(1); }
  if (rest === '0') return 0;
  if (rest === '') throw bad();
  let total = 0;
  while (rest !== '') {
    const m = /^(\d*)(\.(\d*))?/.exec(rest)!;
    if (m[1] === '' && (m[3] ?? '') === '') throw bad();
    rest = rest.slice(m[0].length);
    const u = /^[^\d.]+/.exec(rest)?.[0];
    if (!u) throw new Error(`time: missing unit in duration ${JSON.stringify(s)}`);
    if (!(u in UNITS)) throw new Error(`time: unknown unit ${JSON.stringify(u)} in duration ${JSON.stringify(s)}`);
    rest = rest.slice(u.length);
    total += Number(`${m[1] || '0'}.${m[3] || '0'}`) * UNITS[u]!;
  }
  if (total > 2 ** 63 - 1) throw bad();
  return sign * Math.floor(total);
}
