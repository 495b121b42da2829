/**
 * Per-plugin virtual environments for `kind: isolated_venv`, cached by a hash of what goes
 * into them (base interpreter, requirements text, flags), built once per cache key.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CpexError, type Logger } from '@cpex/core';

export interface VenvRequest {
  plugin: string;
  basePython: string;
  cacheDir: string;
  /** Absolute path of the requirements file, if any. */
  requirementsFile?: string;
  /** See the base interpreter's site-packages (pydantic, orjson) — default true, works offline. */
  systemSitePackages: boolean;
  pipTimeoutMs: number;
  logger: Logger;
  /** Environment for the interpreter and pip (the host's worker environment: PIP_* settings apply). */
  env?: NodeJS.ProcessEnv;
}

export function defaultVenvCacheDir(): string {
  return process.env.CPEX_VENV_CACHE || join(homedir(), '.cache', 'cpex', 'venvs');
}

const building = new Map<string, Promise<string>>();

function run(
  cmd: string,
  args: string[],
  timeoutMs: number,
  env?: NodeJS.ProcessEnv,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const opts = { timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024, ...(env ? { env } : {}) };
    execFile(cmd, args, opts, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stdout, stderr }));
      else resolve({ stdout, stderr });
    });
  });
}

/** Returns the venv's interpreter, building the venv first if no cached one matches. */
export async function ensureVenv(req: VenvRequest): Promise<string> {
  const requirements = req.requirementsFile ? await readRequirements(req) : '';
  const baseVersion = await run(
    req.basePython,
    [
      '-c',
      'import json, site, sys; print(sys.executable, sys.version); print(json.dumps(site.getsitepackages() if sys.prefix != sys.base_prefix else []))',
    ],
    30_000,
  ).catch((e: NodeJS.ErrnoException) => {
    throw new CpexError(
      e.code === 'ENOENT' ? 'CPEX_ERR_HOST_UNAVAILABLE' : 'CPEX_ERR_VENV_BUILD',
      `isolated_venv plugin "${req.plugin}": base interpreter "${req.basePython}" is not usable: ${e.message}`,
      { plugin: req.plugin, cause: e },
    );
  });
  const key = createHash('sha256')
    .update(baseVersion.stdout)
    .update('\0')
    .update(requirements)
    .update(`\0system_site_packages=${req.systemSitePackages}\0layout=2`)
    .digest('hex')
    .slice(0, 24);
  const dir = join(req.cacheDir, key);
  const python = join(dir, 'bin', 'python');
  if (existsSync(join(dir, '.cpex-ready'))) return python;
  let p = building.get(dir);
  if (!p) {
    p = build(req, dir, requirements, parentSitePackages(baseVersion.stdout)).finally(() =>
      building.delete(dir),
    );
    building.set(dir, p);
  }
  return p;
}

async function readRequirements(req: VenvRequest): Promise<string> {
  try {
    return await readFile(req.requirementsFile!, 'utf8');
  } catch (e) {
    throw new CpexError(
      'CPEX_ERR_VENV_BUILD',
      `isolated_venv plugin "${req.plugin}": cannot read requirements_file ${req.requirementsFile}: ${(e as Error).message}`,
      { plugin: req.plugin, cause: e },
    );
  }
}

/** The base interpreter's site-packages when it is itself a venv (second line of the probe). */
function parentSitePackages(probe: string): string[] {
  try {
    const dirs = JSON.parse(probe.trim().split('\n').pop() ?? '[]') as unknown;
    return Array.isArray(dirs) ? dirs.filter((d): d is string => typeof d === 'string') : [];
  } catch {
    return [];
  }
}

async function build(
  req: VenvRequest,
  dir: string,
  requirements: string,
  parentSites: string[],
): Promise<string> {
  // Built in place; `.cpex-ready` is written last, so a half-built venv is never used (it is rebuilt).
  const tmp = dir;
  await mkdir(req.cacheDir, { recursive: true });
  await rm(dir, { recursive: true, force: true });
  const started = Date.now();
  try {
    const venvArgs = ['-m', 'venv', ...(req.systemSitePackages ? ['--system-site-packages'] : []), tmp];
    await run(req.basePython, venvArgs, 120_000);
    const py = join(tmp, 'bin', 'python');
    if (req.systemSitePackages && parentSites.length) {
      // The base interpreter is itself a venv: `--system-site-packages` would only reach the
      // interpreter it was made from. Its packages (cpex, pydantic) are what the plugin's host
      // environment has, so they go on the path too, after the plugin venv's own; a requirement
      // they already satisfy is then not downloaded.
      const purelib = (
        await run(py, ['-c', "import sysconfig;print(sysconfig.get_paths()['purelib'])"], 30_000)
      ).stdout.trim();
      await writeFile(join(purelib, '_cpex_parent_env.pth'), `${parentSites.join('\n')}\n`);
    }
    const toInstall = requirements.trim() ? ['-r', req.requirementsFile!] : [];
    if (!req.systemSitePackages) toInstall.push('pydantic>=2,<3');
    if (toInstall.length) {
      req.logger.info(`isolated_venv plugin "${req.plugin}": installing ${toInstall.join(' ')} into ${dir}`, {
        plugin: req.plugin,
      });
      await run(
        py,
        ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-q', ...toInstall],
        req.pipTimeoutMs,
        req.env,
      );
    }
    await writeFile(
      join(tmp, '.cpex-ready'),
      JSON.stringify({ requirements, built: new Date().toISOString() }),
    );
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    const err = e as Error & { stderr?: string };
    throw new CpexError(
      'CPEX_ERR_VENV_BUILD',
      `isolated_venv plugin "${req.plugin}": building the venv failed: ${err.message.split('\n')[0]}${err.stderr ? ` — ${err.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`,
      { plugin: req.plugin, cause: e },
    );
  }
  req.logger.info(
    `isolated_venv plugin "${req.plugin}": venv ready in ${Date.now() - started} ms at ${dir}`,
    {
      plugin: req.plugin,
    },
  );
  return join(dir, 'bin', 'python');
}
