/**
 * `manager.watchConfig(file)`: reload whenever the file's content changes.
 *
 * The DIRECTORY is watched, not the file: editors save by writing a temp file and renaming it over
 * the old one, and Kubernetes mounts a ConfigMap as `file -> ..data/file` with `..data` a symlink
 * that is swapped atomically — a watch on the file itself would keep watching the old inode.
 * Every event in the directory (debounced) re-reads the file through its symlinks; the content-hash
 * guard makes events that changed nothing free. A slow poll backs the watch up (fs.watch can miss
 * events on some filesystems, and a directory can be replaced wholesale).
 */
import { type FSWatcher, watch } from 'node:fs';
import path from 'node:path';
import type { CpexError } from '../errors/cpex-error.js';
import type { Logger } from '../types.js';
import type { Reloader, ReloadResult } from './reloader.js';

export interface WatchConfigOptions {
  /** Quiet period after a directory event before the file is read. Default 100 ms. */
  debounceMs?: number;
  /** Backstop poll interval; 0 turns it off. Default 2000 ms. */
  pollMs?: number;
  /** Called after each reload that swapped in a new lineup. */
  onReload?: (result: ReloadResult) => void;
  /** Called when a change was rejected (the old lineup keeps serving). */
  onError?: (error: CpexError) => void;
  logger?: Logger;
}

export interface ConfigWatch {
  readonly file: string;
  /** The last rejected reload (cleared by the next successful one). */
  readonly lastError: CpexError | undefined;
  /** Read the file now and reload if its content changed. */
  check(): Promise<ReloadResult | undefined>;
  /** Stop watching (a reload in progress completes). */
  close(): void;
}

interface Reloadable {
  reload(source: string): Promise<ReloadResult>;
}

export function watchConfigFile(
  manager: Reloadable,
  _reloader: Reloader,
  file: string,
  options: WatchConfigOptions = {},
): ConfigWatch {
  const abs = path.resolve(file);
  const dir = path.dirname(abs);
  const debounceMs = options.debounceMs ?? 100;
  const pollMs = options.pollMs ?? 2_000;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<ReloadResult | undefined> | undefined;
  let again = false;
  let lastError: CpexError | undefined;

  const check = (): Promise<ReloadResult | undefined> => {
    if (closed) return Promise.resolve(undefined);
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        const r = await manager.reload(abs);
        if (r.status === 'reloaded') {
          lastError = undefined;
          options.onReload?.(r);
        }
        return r;
      } catch (e) {
        lastError = e as CpexError;
        options.onError?.(lastError);
        return undefined;
      } finally {
        running = undefined;
        if (again && !closed) {
          again = false;
          schedule();
        }
      }
    })();
    return running;
  };

  const schedule = () => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void check();
    }, debounceMs);
    timer.unref?.();
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { persistent: false }, () => schedule());
    watcher.on('error', (e) => {
      options.logger?.warn(`config watch on ${dir} failed, polling only: ${(e as Error).message}`);
      watcher?.close();
      watcher = undefined;
    });
  } catch (e) {
    options.logger?.warn(`cannot watch ${dir}, polling only: ${(e as Error).message}`);
  }
  const poll = pollMs > 0 ? setInterval(() => void check(), pollMs) : undefined;
  poll?.unref?.();
  // Take the file's current content as the baseline (a no-op swap when it is what is serving).
  void check();

  return {
    file: abs,
    get lastError() {
      return lastError;
    },
    check,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      if (poll) clearInterval(poll);
      watcher?.close();
    },
  };
}
