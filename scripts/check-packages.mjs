// Packaging check (after `turbo run build`): every public package's exports map points at built
// ESM + .d.ts files, and each entry imports without the @cpex/source condition (i.e. as users get it).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
let failures = 0;
let checked = 0;

/** The packages this repository publishes: `{ pkgDir, pkg }` for each non-private packages/*. */
function publicPackages() {
  const out = [];
  for (const dir of readdirSync(path.join(root, 'packages'))) {
    const pkgDir = path.join(root, 'packages', dir);
    const pkgFile = path.join(pkgDir, 'package.json');
    if (!existsSync(pkgFile)) continue;
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
    if (!pkg.private) out.push({ pkgDir, pkg });
  }
  return out;
}

for (const { pkgDir, pkg } of publicPackages()) {
  for (const [sub, target] of Object.entries(pkg.exports ?? {})) {
    const js = path.join(pkgDir, target.import);
    const dts = path.join(pkgDir, target.types);
    const where = `${pkg.name}${sub === '.' ? '' : sub.slice(1)}`;
    if (!existsSync(js) || !existsSync(dts)) {
      console.error(`FAIL ${where}: missing ${existsSync(js) ? target.types : target.import}`);
      failures++;
      continue;
    }
    try {
      const mod = await import(pathToFileURL(js).href);
      if (Object.keys(mod).length === 0 && !sub.includes('internal')) throw new Error('no exports');
      checked++;
    } catch (e) {
      console.error(`FAIL ${where}: ${e.message}`);
      failures++;
    }
  }
}
// Tarballs: each public package packed with `pnpm pack`, exactly as `pnpm publish` would ship it
// (workspace: ranges replaced, `files` applied), into a temporary directory. On each tarball:
// - contents: a LICENSE and a README, and no tests, type tests or test utilities;
// - publint (pinned devDependency): every message fails, suggestions included (strict);
// - @arethetypeswrong/cli (pinned devDependency, `attw`): the types of every export resolve under
//   node16 (from ESM) and bundler. The packages are ESM-only by design ("type": "module", Node
//   >= 20.11, no CommonJS build), so the run uses attw's `esm-only` profile: it ignores `node10`
//   (which never reads `exports`, so no subpath can resolve there) and `node16` from CommonJS
//   (`require` of an ES module). Any other problem fails.
// Both tools read the tarball only: they need no network (a run under `unshare -n` passes).
const FORBIDDEN = [/\.test\.[cm]?[jt]s$/, /\.test-d\.ts$/, /\.test-util\.[cm]?[jt]s$/, /(^|\/)test\//];
const { publint } = await import('publint');
const { formatMessage } = await import('publint/utils');
const attwBin = path.join(root, 'node_modules', '.bin', 'attw');
const packDir = mkdtempSync(path.join(tmpdir(), 'cpex-pack-'));
const tarballs = [];
try {
  for (const { pkgDir, pkg } of publicPackages()) {
    const before = new Set(readdirSync(packDir));
    try {
      execFileSync('pnpm', ['pack', '--pack-destination', packDir], {
        cwd: pkgDir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      console.error(`FAIL ${pkg.name}: pnpm pack failed: ${e.message.split('\n')[0]}`);
      failures++;
      continue;
    }
    const made = readdirSync(packDir).filter((f) => f.endsWith('.tgz') && !before.has(f));
    if (made.length !== 1) {
      console.error(`FAIL ${pkg.name}: pnpm pack made ${made.length} tarballs`);
      failures++;
      continue;
    }
    const tgz = path.join(packDir, made[0]);
    tarballs.push({ name: pkg.name, tgz });
    const files = execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, ''));
    const problems = [];
    for (const need of ['LICENSE', 'README.md']) if (!files.includes(need)) problems.push(`no ${need}`);
    for (const f of files) if (FORBIDDEN.some((re) => re.test(f))) problems.push(`ships ${f}`);
    if (pkg.license !== 'Apache-2.0') problems.push(`license is ${pkg.license}, not Apache-2.0`);
    const packed = JSON.parse(
      execFileSync('tar', ['-xzOf', tgz, 'package/package.json'], { encoding: 'utf8' }),
    );
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
      for (const [dep, range] of Object.entries(packed[field] ?? {})) {
        if (String(range).startsWith('workspace:')) problems.push(`${field}.${dep} is still ${range}`);
      }
    }
    const lint = await publint({
      pack: { tarball: readFileSync(tgz).buffer },
      level: 'suggestion',
      strict: true,
    });
    for (const m of lint.messages)
      problems.push(`publint ${m.type} ${m.code}: ${formatMessage(m, lint.pkg) ?? ''}`);
    if (problems.length) {
      console.error(`FAIL ${pkg.name} tarball: ${problems.join('; ')}`);
      failures++;
    } else
      console.log(`tarball: ${pkg.name} ${files.length} files, LICENSE + README, no tests, publint clean`);
  }

  // attw loads its own TypeScript per run (~5-10 s): two runs at a time.
  const runAttw = ({ name, tgz }) =>
    new Promise((resolve) => {
      execFile(
        attwBin,
        [tgz, '--profile', 'esm-only', '--format', 'ascii', '--no-color', '--no-emoji'],
        { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error) {
            console.error(
              `FAIL ${name}: @arethetypeswrong/cli (esm-only profile) reports problems:\n${stdout}${stderr}`,
            );
            failures++;
          } else console.log(`attw: ${name} types resolve (node16 from ESM, bundler)`);
          resolve();
        },
      );
    });
  const queue = [...tarballs];
  await Promise.all(
    [0, 1].map(async () => {
      for (let t = queue.shift(); t; t = queue.shift()) await runAttw(t);
    }),
  );
} finally {
  rmSync(packDir, { recursive: true, force: true });
}

// Size budgets (STYLE 18): the engine and the author SDK stay small. Bytes of built JS (without maps).
// core grew this wave by the session store, hot reload, the process supervisor, payload bounds and
// route explanations (~340 KB); the budget leaves ~15% headroom, so the next growth is a decision.
// Session 5 decided one (402 KB, most of it comments): the bounded walkers for arrays with holes,
// the bounded describeCause, the one host-package table (moved from the CLI and the sidecar), and
// the executor's reusable per-invocation objects. 440 KB again leaves ~10% headroom.
// Session 7 decided the next (442 KB): the cross-language JSON-data checks that keep NaN, BigInts,
// lone surrogates and cycles from reaching other languages (extensions/json-data.ts, refuseNonFinite
// and stringifyExact in core/host), the watchdog's linked serial calls, the call pool and the
// out-of-line slow paths that let the hot ones inline. 480 KB leaves ~9% headroom.
const BUDGETS = { core: 480_000, sdk: 60_000 };
function jsBytes(dir) {
  let n = 0;
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, f.name);
    if (f.isDirectory()) n += jsBytes(p);
    else if (f.name.endsWith('.js')) n += readFileSync(p).length;
  }
  return n;
}
for (const [pkg, budget] of Object.entries(BUDGETS)) {
  const bytes = jsBytes(path.join(root, 'packages', pkg, 'dist'));
  const ok = bytes <= budget;
  console.log(`size: @cpex/${pkg} ${bytes} bytes of JS (budget ${budget}) ${ok ? 'ok' : 'OVER BUDGET'}`);
  if (!ok) failures++;
}
console.log(`packaging: ${checked} entry points import from dist, ${failures} failed`);
process.exit(failures ? 1 : 0);
