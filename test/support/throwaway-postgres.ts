// A PostgreSQL server of a test's own, for faults the shared server must never see: restarts,
// stops, terminated connections. initdb into a temporary directory, its own port, trust auth, no
// fsync (the data is thrown away); stopped and deleted by destroy().
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The server binaries of the newest PostgreSQL installed from Debian's packages. */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql');
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error('initdb not found under /usr/lib/postgresql/*/bin');
  return join(root, versions[0]!, 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** PostgreSQL refuses to run as root; as root, run its tools as the postgres user. */
function asServerUser(command: string, args: string[]): { command: string; args: string[] } {
  return process.getuid?.() === 0 ? { command: 'runuser', args: ['-u', 'postgres', '--', command, ...args] } : { command, args };
}

export class ThrowawayPostgres {
  readonly port: number;
  readonly dir: string;
  readonly #bin: string;

  private constructor(port: number, dir: string, bin: string) {
    this.port = port;
    this.dir = dir;
    this.#bin = bin;
  }

  /** Whether a throwaway server can be made here (binaries present). */
  static isAvailable(): boolean {
    try {
      binDir();
      return true;
    } catch {
      return false;
    }
  }

  static async start(): Promise<ThrowawayPostgres> {
    const bin = binDir();
    const dir = mkdtempSync(join(tmpdir(), 'rollcall-pg-'));
    if (process.getuid?.() === 0) {
      const { uid, gid } = ThrowawayPostgres.serverOwner();
      chownSync(dir, uid, gid);
    }
    const init = asServerUser(join(bin, 'initdb'), ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    const result = spawnSync(init.command, init.args, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`initdb failed: ${result.stderr}`);
    const server = new ThrowawayPostgres(await freePort(), dir, bin);
    await server.startServer();
    return server;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  #ctl(args: string[]): void {
    const ctl = asServerUser(join(this.#bin, 'pg_ctl'), ['-D', join(this.dir, 'data'), ...args]);
    const result = spawnSync(ctl.command, ctl.args, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`pg_ctl ${args[0]} failed: ${result.stderr || result.stdout}`);
  }

  #options(): string {
    return `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${this.dir} -c fsync=off -c max_connections=200`;
  }

  async startServer(): Promise<void> {
    this.#ctl(['-w', '-t', '60', '-l', join(this.dir, 'server.log'), '-o', this.#options(), 'start']);
  }

  /** Stops the server; `fast` ends every session at once, as a failover or an operator does. */
  async stopServer(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    this.#ctl(['-w', '-t', '60', '-m', mode, 'stop']);
  }

  async restart(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    this.#ctl(['-w', '-t', '60', '-m', mode, '-l', join(this.dir, 'server.log'), '-o', this.#options(), 'restart']);
  }

  /** Ends every other session of the server (pg_terminate_backend), as an idle-timeout proxy or a failover does. */
  async terminateBackends(): Promise<number> {
    const client = new pg.Client({ connectionString: this.url });
    await client.connect();
    try {
      const result = await client.query(`select count(*)::int as n from (select pg_terminate_backend(pid) from pg_stat_activity where pid <> pg_backend_pid() and backend_type = 'client backend') t`);
      return result.rows[0].n as number;
    } finally {
      await client.end();
    }
  }

  /** The user the server runs as (postgres when this process is root), to own directories it writes to. */
  static serverOwner(): { uid: number; gid: number } {
    if (process.getuid?.() !== 0) return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
    return { uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()) };
  }

  /**
   * Creates database `name` whose tables all live in `directory` (a tablespace there: an empty
   * directory the server's user owns), e.g. on a volume of its own; returns its URL.
   */
  async createDatabaseIn(directory: string, name: string): Promise<string> {
    const client = new pg.Client({ connectionString: this.url });
    await client.connect();
    try {
      await client.query(`create tablespace ${name} location '${directory}'`);
      await client.query(`create database ${name} tablespace ${name}`);
    } finally {
      await client.end();
    }
    return `postgres://postgres@127.0.0.1:${this.port}/${name}`;
  }

  async destroy(): Promise<void> {
    try {
      this.#ctl(['-w', '-m', 'immediate', 'stop']);
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
