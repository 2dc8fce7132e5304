/**
 * Where a whole process's CPU went, every thread and the kernel included,
 * from a Linux `perf record -e cpu-clock` file: what `--cpu-prof` cannot see
 * (libuv's threadpool doing file I/O, V8's GC threads, kernel copies, page
 * faults, TCP, zero-filling in libc). Symbols are grouped by name patterns.
 *
 *   perf record -e cpu-clock -F 999 -o enc.data -- node bin/encrypted-stream.js encrypt …
 *   node -r ts-node/register/transpile-only bench/peers/perf-summary.ts [--bytes N] enc.data
 */
import { spawnSync } from 'node:child_process';

/** Categories, first matching pattern wins; tested against `dso symbol`. */
const RULES: readonly (readonly [string, RegExp])[] = [
  ['cipher: ChaCha20 / XSalsa20 + Poly1305', /chacha|poly1305|salsa/i],
  ['hashing: SHA-256 / MD5 / CRC', /sha256|sha2_|sha1|md5|crc32/i],
  [
    'kernel: copies user ↔ kernel',
    /\[kernel.*(copy_(to|from)_(iter|user)|copy_page_(to|from)_iter|copy_folio|copy_user|_copy_)/,
  ],
  [
    'kernel: page cache, ext4, block I/O, writeback',
    /\[kernel.*(ext4|jbd2|filemap|folio|mpage|bio|blk_|dquot|iomap|generic_perform_write|writeback|wb_|virtio|page_cache|pagecache|__es_|es_)/,
  ],
  [
    'kernel: TCP / loopback',
    /\[kernel.*(tcp|skb|inet|\bip_|__ip|netif|net_rx|loopback|sock|\bsk_|napi|backlog|__dev_)/,
  ],
  [
    'kernel: page faults, memory mapping',
    /\[kernel.*(fault|clear_page|mm_|unmap|pte|zap_|alloc_pages|free_pages|folio_alloc|lru|memcg|rmqueue|freelist|mmap|vma)/,
  ],
  ['kernel: scheduler, syscalls, other', /\[kernel/],
  ['libc: memset (zero-filled allocations)', /libc.*memset/],
  ['user-space copies (memcpy / memmove)', /libc.*mem(cpy|move)|runtime\.memmove/],
  ['libc: malloc / free', /libc.*(malloc|free|_int_|unlink_chunk|tcache|arena)/],
  [
    'garbage collection (V8 or Go)',
    /v8::internal::(Heap|Scaveng|MarkCompact|Sweep|Concurrent|Evacuat|MemoryAllocator|PagedSpace|NewSpace|SemiSpace|GCTracer|Marking|MinorM|MarkingVisitor|LocalHeap|ArrayBufferSweeper)|Scavenger|runtime\.(gc|scanobject|markBits|mallocgc|sweep|greyobject|findObject|heapBits)/,
  ],
  [
    'V8: parser, compilers',
    /v8::internal::(Parser|PreParser|Scanner|Compiler|Maglev|compiler::|baseline::|interpreter::|CodeGenerator|Assembler|Zone)/,
  ],
  ['JavaScript (JIT code, builtins)', /\[JIT\]|Builtins_|\[\.\] LazyCompile|\[\.\] JS:/],
  ['Node / V8 runtime, other', /^node\b/],
  ['unresolved addresses (stripped binary, e.g. age)', /\[\.\] 0x[0-9a-f]+$/],
  ['other libraries and runtimes', /./],
];

/** The summary of one perf data file. */
export interface PerfSummary {
  /** CPU seconds sampled (cpu-clock event count). */
  readonly seconds: number;
  /** Seconds per category, in {@link RULES} order. */
  readonly byCategory: ReadonlyMap<string, number>;
  /** The largest symbols: `dso symbol`, seconds. */
  readonly top: readonly (readonly [string, number])[];
}

/** Whether `perf` runs here (Debian: linux-perf; it needs perf_event_paranoid ≤ 2 for a user's own processes). */
export function perfAvailable(): boolean {
  const result = spawnSync('perf', ['--version'], { stdio: 'ignore' });
  return !result.error && result.status === 0;
}

/** The `perf record` arguments that sample every thread's CPU (software clock: works in VMs without a PMU). */
export function perfRecordArgs(output: string): string[] {
  return ['record', '-q', '-e', 'cpu-clock', '-F', '999', '-o', output, '--'];
}

/** Reads `perf report` of `dataFile` and sums it by category. */
export function summarizePerf(dataFile: string): PerfSummary {
  const report = spawnSync(
    'perf',
    ['report', '-i', dataFile, '--no-children', '--sort', 'dso,sym', '-g', 'none', '--stdio', '--percent-limit', '0'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (report.status !== 0) throw new Error(`perf report failed: ${report.stderr}`);
  const count = report.stdout.match(/# Event count \(approx\.\): (\d+)/);
  const seconds = count ? Number(count[1]) / 1e9 : 0; // cpu-clock counts nanoseconds
  const byCategory = new Map<string, number>(RULES.map(([name]) => [name, 0]));
  const symbols: [string, number][] = [];
  for (const line of report.stdout.split('\n')) {
    const m = line.match(/^\s+([\d.]+)%\s+(\S+)\s+(\[.\])\s+(.*)$/);
    if (!m) continue;
    const share = Number(m[1]) / 100;
    const dso = m[2] as string;
    const name = `${dso} ${m[3]} ${(m[4] as string).trim()}`;
    const rule = RULES.find(([, pattern]) => pattern.test(name));
    const category = rule ? rule[0] : 'other libraries and runtimes';
    byCategory.set(category, (byCategory.get(category) ?? 0) + share * seconds);
    symbols.push([name, share * seconds]);
  }
  symbols.sort((a, b) => b[1] - a[1]);
  return { seconds, byCategory, top: symbols.slice(0, 15) };
}

/** The summary as text lines (seconds, share, and seconds per GiB when `bytes` is given). */
export function formatPerf(summary: PerfSummary, bytes?: number): string[] {
  const perGiB = (s: number) => (bytes ? `  ${((s * 1024 ** 3) / bytes).toFixed(3)} s/GiB` : '');
  const pct = (s: number) => `${((100 * s) / (summary.seconds || 1)).toFixed(1).padStart(5)} %`;
  const lines = [
    `all threads and kernel: ${summary.seconds.toFixed(3)} CPU s${perGiB(summary.seconds)}`,
    'by category:',
  ];
  for (const [name, s] of summary.byCategory) {
    if (s > 0) lines.push(`  ${name.padEnd(48)} ${s.toFixed(3).padStart(7)} s ${pct(s)}${perGiB(s)}`);
  }
  lines.push('top symbols:');
  for (const [name, s] of summary.top) lines.push(`  ${s.toFixed(3).padStart(7)} s ${pct(s)}  ${name}`);
  return lines;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--bytes');
  const bytes = at >= 0 ? Number(args.splice(at, 2)[1]) : undefined;
  for (const file of args) process.stdout.write(`${file}:\n${formatPerf(summarizePerf(file), bytes).join('\n')}\n`);
}
