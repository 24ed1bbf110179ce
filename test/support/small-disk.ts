// A filesystem of a few megabytes of a test's own (tmpfs, mounted for the test and unmounted after)
// that it fills up and empties again: writes to it fail with a real ENOSPC, as on a full volume,
// and deleting the filler gives the space back without restarting whatever uses it. Mounting needs
// root; isAvailable() says whether it works here.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let mountable: boolean | null = null;

function run(command: string, args: string[]): { ok: boolean; error: string } {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return { ok: result.status === 0, error: result.stderr || result.stdout || String(result.error ?? '') };
}

export class SmallDisk {
  readonly dir: string;
  readonly #filler: string;

  private constructor(dir: string) {
    this.dir = dir;
    this.#filler = join(dir, 'filler');
  }

  /** Whether a tmpfs can be mounted here (tried once, on a scratch directory). */
  static isAvailable(): boolean {
    if (mountable !== null) return mountable;
    if (process.platform !== 'linux' || process.getuid?.() !== 0) return (mountable = false);
    const scratch = mkdtempSync(join(tmpdir(), 'rollcall-disk-probe-'));
    mountable = run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', scratch]).ok;
    if (mountable) run('umount', [scratch]);
    rmSync(scratch, { recursive: true, force: true });
    return mountable;
  }

  /** Mounts a filesystem of `bytes` on a new temporary directory, its root owned by `owner`. */
  static mount(bytes: number, owner: { uid: number; gid: number }): SmallDisk {
    const dir = mkdtempSync(join(tmpdir(), 'rollcall-disk-'));
    const mounted = run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},uid=${owner.uid},gid=${owner.gid},mode=0700`, 'tmpfs', dir]);
    if (!mounted.ok) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`cannot mount a tmpfs at ${dir}: ${mounted.error}`);
    }
    return new SmallDisk(dir);
  }

  /** Bytes still free on the filesystem. */
  get freeBytes(): number {
    const stats = statfsSync(this.dir);
    return stats.bavail * stats.bsize;
  }

  /** Fills the filesystem until `leaveBytes` (rounded to its blocks) are free; 0 leaves none. Adds to an earlier fill. */
  fill(leaveBytes = 0): void {
    const bytes = this.freeBytes - leaveBytes;
    if (bytes <= 0) return;
    try {
      appendFileSync(this.#filler, Buffer.alloc(bytes, 1));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    }
  }

  /** Deletes the filler: the space is back. */
  free(): void {
    rmSync(this.#filler, { force: true });
  }

  /** Unmounts and deletes the directory (whatever used the filesystem must have let go of it first). */
  unmount(): void {
    const unmounted = run('umount', [this.dir]);
    if (!unmounted.ok) throw new Error(`cannot unmount ${this.dir}: ${unmounted.error}`);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
