// Starts the built portal binary on a free loopback port in a fresh temporary
// working directory, so every test file gets its own database and dev keys.
import http from 'node:http';
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const e2eDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** Path of the server binary: $USLUGI_BIN, or ../target/debug/uslugi relative to e2e/. */
export function binaryPath() {
  const bin = process.env.USLUGI_BIN || '../target/debug/uslugi';
  return path.resolve(e2eDir, bin);
}

/** A loopback port that was free a moment ago: listen on port 0, read it, close. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Start `uslugi serve --addr 127.0.0.1:<port>` and wait for GET /readyz to answer 200.
 *
 * Options:
 * - `keepDir: true` — `stop()` leaves the temporary directory (data directory, log) in place so
 *   the test can read it afterwards; the test then calls `remove()` (also done at process exit).
 * - `logFile: true` — the server's stdout and stderr, as written, also go to `<workDir>/server.log`
 *   (`logPath`), outside the data directory; the file is complete once `stop()` resolves.
 * - `env` — extra environment variables for the server.
 * - `config` — the text of a `uslugi.toml` the server finds in its working directory.
 * @returns {Promise<{ baseUrl: string, workDir: string, dataDir: string, logPath: string | null,
 *   stderr: () => string, stop: () => Promise<{ code: number | null, signal: string | null }>,
 *   remove: () => Promise<void> }>}
 */
export async function startServer({ keepDir = false, logFile = false, env: extraEnv = {}, config = null } = {}) {
  const bin = binaryPath();
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'uslugi-e2e-'));
  if (config !== null) await writeFile(path.join(workDir, 'uslugi.toml'), config);
  const dataDir = path.join(workDir, 'data');
  const logPath = logFile ? path.join(workDir, 'server.log') : null;
  const port = await freePort();
  // With E2E_TWO_NODES=1 on PostgreSQL, two `serve` processes share the database and the data
  // directory behind nginx, which alternates requests between them; the tests talk to nginx.
  const twoNodes = process.env.E2E_TWO_NODES === '1' && Boolean(process.env.E2E_POSTGRES_URL);
  const lbPort = twoNodes ? await freePort() : null;
  const nodeUrl = `http://127.0.0.1:${port}`;
  const baseUrl = twoNodes ? `http://127.0.0.1:${lbPort}` : nodeUrl;

  // With E2E_POSTGRES_URL (an administrative URL of a throwaway cluster), each server gets a
  // fresh PostgreSQL database instead of a SQLite file, so the same tests run on both backends.
  let databaseUrl = `sqlite://${dataDir}/uslugi.db?mode=rwc`;
  const pgAdmin = process.env.E2E_POSTGRES_URL;
  if (pgAdmin) {
    const name = `uslugi_e2e_${path.basename(workDir).replace(/[^a-zA-Z0-9]/g, '_').toLowerCase()}`;
    execFileSync('psql', [pgAdmin, '-q', '-c', `CREATE DATABASE "${name}"`], { stdio: 'pipe' });
    const u = new URL(pgAdmin);
    u.pathname = `/${name}`;
    databaseUrl = u.toString();
  }
  const env = {
    ...process.env,
    USLUGI_DATA_DIR: dataDir,
    USLUGI_DATABASE_URL: databaseUrl,
    NO_COLOR: '1',
  };
  // A config file or production switch inherited from the caller's shell would change what we test.
  delete env.USLUGI_CONFIG;
  delete env.USLUGI_PRODUCTION;
  delete env.USLUGI_KEYS_FILE;
  Object.assign(env, extraEnv);

  const serveArgs = (p) => ['serve', '--addr', `127.0.0.1:${p}`, ...(twoNodes ? ['--public-url', baseUrl] : [])];
  const child = spawn(bin, serveArgs(port), {
    cwd: workDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const helpers = []; // the second node and nginx, when there are two nodes

  let output = '';
  const log = logPath ? createWriteStream(logPath) : null;
  const keep = (chunk) => {
    log?.write(chunk);
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);

  let exited = null;
  let spawnError = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
    child.on('error', (err) => {
      spawnError = err;
      exited = exited || { code: null, signal: null };
      resolve(exited);
    });
  });

  // Both pipes drained (the child has exited and everything it wrote was read): close the log.
  // (At most 2 s after the exit: a grandchild holding the pipes open must not hang the test.)
  const drained = Promise.race([
    Promise.all([child.stdout, child.stderr].map((s) => new Promise((resolve) => s.once('close', resolve)))),
    exitPromise.then(() => new Promise((resolve) => setTimeout(resolve, 2000).unref())),
  ]);
  const logClosed = log
    ? drained.then(() => new Promise((resolve) => log.end(resolve)))
    : Promise.resolve();

  // If the test process dies without calling stop(), do not leave the server or its files behind.
  const onExit = () => {
    if (!exited) child.kill('SIGKILL');
    for (const h of helpers) if (h.exitCode === null && h.signalCode === null) h.kill('SIGKILL');
    try {
      rmSync(workDir, { recursive: true, force: true });
    } catch {
      // best effort
    }
  };
  process.once('exit', onExit);

  const cleanup = async () => {
    process.removeListener('exit', onExit);
    await logClosed;
    await rm(workDir, { recursive: true, force: true }).catch(() => {});
  };

  const fail = async (why) => {
    for (const h of helpers) h.kill('SIGKILL');
    if (!exited) {
      child.kill('SIGKILL');
      await exitPromise;
    }
    await cleanup();
    throw new Error(
      `${why}\nbinary: ${bin}\n--- server output ---\n${output.trim() || '(none)'}\n--- end of server output ---`,
    );
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastProblem = 'no answer yet';
  for (;;) {
    if (spawnError) return fail(`could not start the server: ${spawnError.message}`);
    if (exited) return fail(`server exited before it was ready (code ${exited.code}, signal ${exited.signal})`);
    if (Date.now() > deadline) {
      return fail(`server not ready after ${READY_TIMEOUT_MS / 1000} s at ${baseUrl}/readyz (${lastProblem})`);
    }
    try {
      const res = await fetch(`${nodeUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
      lastProblem = `GET /readyz answered ${res.status}`;
    } catch (err) {
      lastProblem = err.cause?.code || err.message;
    }
    await sleep(150);
  }

  if (twoNodes) {
    // The second node starts once the first has made the keys and applied the migrations.
    const port2 = await freePort();
    const second = spawn(bin, serveArgs(port2), { cwd: workDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    second.stdout.on('data', keep);
    second.stderr.on('data', keep);
    helpers.push(second);
    await writeFile(path.join(workDir, 'nginx.conf'), `worker_processes 1;
daemon off;
pid ${workDir}/nginx.pid;
error_log ${workDir}/nginx.err;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${workDir}/nginx-body;
  proxy_temp_path ${workDir}/nginx-proxy;
  client_max_body_size 8m;
  upstream portal { server 127.0.0.1:${port}; server 127.0.0.1:${port2}; }
  server {
    listen 127.0.0.1:${lbPort};
    location / {
      proxy_pass http://portal;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_next_upstream off;
    }
  }
}
`);
    const nginx = spawn('nginx', ['-c', path.join(workDir, 'nginx.conf'), '-p', workDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    nginx.stderr.on('data', keep);
    helpers.push(nginx);
    for (const url of [`http://127.0.0.1:${port2}`, baseUrl]) {
      for (;;) {
        if (Date.now() > deadline) return fail(`second node or nginx not ready at ${url}`);
        try {
          const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
          await res.arrayBuffer();
          if (res.status === 200) break;
        } catch {
          // not yet
        }
        await sleep(150);
      }
    }
  }

  let stopped = false;
  return {
    baseUrl,
    databaseUrl,
    postgres: Boolean(pgAdmin),
    workDir,
    dataDir,
    logPath,
    stderr: () => output,
    /** SIGTERM (SIGKILL after 10 s), wait for the exit; remove the directory unless keepDir. */
    async stop() {
      if (!stopped) {
        stopped = true;
        await Promise.all(helpers.map((h) => (h.exitCode !== null || h.signalCode !== null)
          ? null
          : new Promise((resolve) => { h.once('exit', resolve); h.kill('SIGTERM'); })));
        if (!exited) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => {
            if (!exited) child.kill('SIGKILL');
          }, STOP_TIMEOUT_MS);
          await exitPromise;
          clearTimeout(timer);
        }
        await logClosed;
        if (!keepDir) await cleanup();
      }
      return exited;
    },
    /** Stop if still running, and remove the temporary directory (for keepDir servers). */
    async remove() {
      await this.stop();
      await cleanup();
    },
  };
}

/**
 * A service's redirect target on loopback (where the portal sends people back): every request
 * gets a small page. Returns its address (`pathname` appended) and a `close` function.
 */
export async function startCallback(pathname = '/cb') {
  const port = await freePort();
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="ru"><title>Сервис</title><h1>Сервис</h1></html>');
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}${pathname}`, close: () => new Promise((r) => server.close(r)) };
}
