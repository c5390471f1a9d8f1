#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  ClientError,
  ConnectionError,
  NotFoundError,
  ServerError,
  TimeoutError,
  WorkqClient,
  type AddOptions,
  type ClientOptions,
  type TlsOptions,
  type JobInfo,
  type JobResult,
  type LeasedJob,
  type QueueInfo,
  type ServerInfo,
} from '../client/index.js';
import { packageVersion } from '../config/package-root.js';

/**
 * `workq`: the command-line client. One command per invocation, human-readable output by
 * default, `--json` for scripts. Exit codes: 0 success, 1 usage, 2 timeout, 3 not found,
 * 4 client or server error reply, 5 connection error.
 */

const EXIT = { usage: 1, timeout: 2, notFound: 3, reply: 4, connection: 5 } as const;

interface GlobalOptions {
  server: string[];
  json: boolean;
  secretFile?: string;
  tls?: boolean;
  tlsCa?: string;
  tlsServername?: string;
  tlsInsecure?: boolean;
}

function integer(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw new InvalidArgumentError('not an integer');
  return Number(text);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').filter((s) => s.trim() !== '')];
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The data of a command: `--file F`, the argument (`-` reads stdin), or nothing. */
async function data(argument: string | undefined, file: string | undefined): Promise<Buffer | undefined> {
  if (file !== undefined) return readFile(file);
  if (argument === '-') return readStdin();
  return argument === undefined ? undefined : Buffer.from(argument, 'utf8');
}

function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Dates serialize themselves; payloads are shown as UTF-8 text. */
function jobJson(job: JobInfo): Record<string, unknown> {
  return { ...job, payload: job.payload.toString('utf8') };
}

function jobText(job: JobInfo): string {
  const lines = [
    `id ${job.id}`,
    `name ${job.name}`,
    `state ${job.state}`,
    `ttr ${job.ttrMs}`,
    `ttl ${job.ttlMs}`,
    `priority ${job.priority}`,
    `attempts ${job.attempts}/${job.maxAttempts}`,
    `fails ${job.fails}/${job.maxFails}`,
    `created ${job.created.toISOString()}`,
  ];
  if (job.time !== null) lines.push(`time ${job.time.toISOString()}`);
  if (job.retryAt !== null) lines.push(`retry-at ${job.retryAt.toISOString()}`);
  lines.push(`server ${job.server}`, `payload (${job.payload.length} bytes) ${job.payload.toString('utf8')}`);
  return lines.join('\n');
}

function resultOut(result: JobResult, json: boolean): void {
  if (json) print(JSON.stringify({ id: result.id, success: result.success, result: result.result.toString('utf8') }));
  else print(`${result.id} ${result.success ? 'completed' : 'failed'}\n${result.result.toString('utf8')}`);
}

function leaseOut(job: LeasedJob, json: boolean): void {
  if (json) print(JSON.stringify({ ...job, payload: job.payload.toString('utf8') }));
  else print(`${job.id} ${job.name} ttr ${job.ttrMs} from ${job.server}\n${job.payload.toString('utf8')}`);
}

function queuesOut(queues: readonly QueueInfo[], json: boolean): void {
  if (json) print(JSON.stringify(queues));
  else if (queues.length === 0) print('(no queues)');
  else print(queues.map((q) => `${q.name} ready ${q.readyLen} scheduled ${q.scheduledLen}${q.paused ? ' paused' : ''}`).join('\n'));
}

function serverText(info: ServerInfo): string {
  return [`server ${info.server}`, ...Object.entries(info.keys).map(([k, v]) => `${k} ${v}`)].join('\n');
}

function exitCode(error: unknown): number {
  if (error instanceof TimeoutError) return EXIT.timeout;
  if (error instanceof NotFoundError) return EXIT.notFound;
  if (error instanceof ClientError || error instanceof ServerError) return EXIT.reply;
  if (error instanceof ConnectionError) return EXIT.connection;
  return EXIT.usage;
}

function describe(error: unknown): string {
  if (error instanceof TimeoutError) return 'timeout';
  if (error instanceof NotFoundError) return 'not found';
  return error instanceof Error ? error.message : String(error);
}

const program = new Command('workq')
  .description('Command-line client of Workq job servers')
  .version(packageVersion(), '-V, --version', 'print the version')
  .addOption(
    new Option('-s, --server <host:port>', 'server address; repeat or comma-separate for several (env WORKQ_SERVERS)')
      .argParser(collect)
      .default([], 'WORKQ_SERVERS, else 127.0.0.1:9922'),
  )
  .option('--json', 'print JSON for scripts', false)
  .option('--secret-file <path>', "read the server's shared secret from this file (env WORKQ_SECRET holds it directly); never on the command line")
  .option('--tls', 'connect with TLS (env WORKQ_TLS=1)')
  .option('--tls-ca <path>', "trust this PEM certificate or CA instead of the system's (implies --tls; env WORKQ_TLS_CA)")
  .option('--tls-servername <name>', 'name to check the server certificate against (implies --tls)')
  .option('--tls-insecure', 'do not verify the server certificate (implies --tls; testing only)')
  .showHelpAfterError();

/** The secret and TLS options of the client, from the global options and the environment. */
async function securityOptions(global: GlobalOptions): Promise<Pick<ClientOptions, 'secret' | 'tls'>> {
  const env = process.env;
  const secretText = global.secretFile !== undefined ? await readFile(global.secretFile, 'utf8') : env['WORKQ_SECRET'];
  const secret = secretText?.trim();
  const caFile = global.tlsCa ?? env['WORKQ_TLS_CA'];
  const useTls = global.tls === true || env['WORKQ_TLS'] === '1' || caFile !== undefined || global.tlsServername !== undefined || global.tlsInsecure === true;
  const tls: TlsOptions = {};
  if (caFile !== undefined) tls.ca = await readFile(caFile);
  if (global.tlsServername !== undefined) tls.servername = global.tlsServername;
  if (global.tlsInsecure === true) tls.rejectUnauthorized = false;
  return { ...(secret ? { secret } : {}), ...(useTls ? { tls } : {}) };
}

/** Runs `action` with a client of the global servers and turns its outcome into an exit code. */
function act<A extends unknown[]>(action: (client: WorkqClient, json: boolean, ...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    const global = program.opts<GlobalOptions>();
    const fromEnv = (process.env['WORKQ_SERVERS'] ?? '').split(',').filter((s) => s.trim() !== '');
    const servers = global.server.length > 0 ? global.server : fromEnv.length > 0 ? fromEnv : ['127.0.0.1:9922'];
    let client: WorkqClient;
    try {
      client = new WorkqClient({ servers, ...(await securityOptions(global)) });
    } catch (error) {
      process.stderr.write(`workq: ${describe(error)}\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    try {
      await action(client, global.json, ...args);
    } catch (error) {
      process.stderr.write(`workq: ${describe(error)}\n`);
      process.exitCode = exitCode(error);
    } finally {
      await client.close();
    }
  };
}

interface JobOptions {
  ttr?: number;
  ttl?: number;
  priority?: number;
  maxAttempts?: number;
  maxFails?: number;
  retryDelay?: number;
  retryMaxDelay?: number;
  retryJitter?: number;
  id?: string;
  file?: string;
}

function jobOptions(command: Command): Command {
  return command
    .option('--ttr <ms>', 'time to run once leased (default 60000)', integer)
    .option('--ttl <ms>', 'time to live (default 86400000)', integer)
    .option('--priority <n>', 'higher runs first', integer)
    .option('--max-attempts <n>', 'leases allowed (0: up to 255)', integer)
    .option('--max-fails <n>', 'fails allowed before the job stays failed', integer)
    .option('--retry-delay <ms>', "wait before a retry after a lease (default: the server's)", integer)
    .option('--retry-max-delay <ms>', 'the retry delay doubles per retry up to this', integer)
    .option('--retry-jitter <percent>', 'shorten each retry delay by a random share of up to this', integer)
    .option('--id <uuid>', 'job ID (default: a new UUIDv4)')
    .option('--file <path>', 'read the payload from a file');
}

function addOptions(o: JobOptions): AddOptions {
  return {
    id: o.id,
    ttrMs: o.ttr,
    ttlMs: o.ttl,
    priority: o.priority,
    maxAttempts: o.maxAttempts,
    maxFails: o.maxFails,
    retryDelayMs: o.retryDelay,
    retryMaxDelayMs: o.retryMaxDelay,
    retryJitterPercent: o.retryJitter,
  };
}

function idOut(id: string, json: boolean): void {
  print(json ? JSON.stringify({ id }) : id);
}

function okOut(json: boolean): void {
  print(json ? JSON.stringify({ ok: true }) : 'OK');
}

jobOptions(program.command('add').description('enqueue a background job; prints its ID'))
  .argument('<name>', 'queue name')
  .argument('[payload]', "payload ('-' reads stdin)")
  .action(
    act(async (client, json, name: string, payload: string | undefined, o: JobOptions) => {
      idOut(await client.add(name, await data(payload, o.file), addOptions(o)), json);
    }),
  );

jobOptions(program.command('schedule').description('enqueue a job that becomes ready at <time>; prints its ID'))
  .argument('<name>', 'queue name')
  .argument('<time>', 'UTC time, YYYY-MM-DDTHH:MM:SSZ')
  .argument('[payload]', "payload ('-' reads stdin)")
  .action(
    act(async (client, json, name: string, time: string, payload: string | undefined, o: JobOptions) => {
      idOut(await client.schedule(name, await data(payload, o.file), time, addOptions(o)), json);
    }),
  );

program
  .command('run')
  .description('enqueue a job and wait for its result')
  .argument('<name>', 'queue name')
  .argument('[payload]', "payload ('-' reads stdin)")
  .option('--ttr <ms>', 'time to run once leased (default 60000)', integer)
  .option('--timeout <ms>', 'how long to wait (default 60000)', integer)
  .option('--priority <n>', 'higher runs first', integer)
  .option('--id <uuid>', 'job ID (default: a new UUIDv4)')
  .option('--file <path>', 'read the payload from a file')
  .action(
    act(async (client, json, name: string, payload: string | undefined, o: JobOptions & { timeout?: number }) => {
      const options = { id: o.id, ttrMs: o.ttr, timeoutMs: o.timeout, priority: o.priority };
      resultOut(await client.run(name, await data(payload, o.file), options), json);
    }),
  );

program
  .command('result')
  .description("print a job's result, waiting up to --timeout for it")
  .argument('<id>')
  .option('--timeout <ms>', 'how long to wait (default 0)', integer, 0)
  .action(
    act(async (client, json, id: string, o: { timeout: number }) => {
      resultOut(await client.result(id, o.timeout), json);
    }),
  );

program
  .command('lease')
  .description('take a job from the first of the queues that has one')
  .argument('<names...>', 'queue names')
  .option('--timeout <ms>', 'how long to wait (default 0)', integer, 0)
  .action(
    act(async (client, json, names: string[], o: { timeout: number }) => {
      leaseOut(await client.lease(names, o.timeout), json);
    }),
  );

for (const verb of ['complete', 'fail'] as const) {
  program
    .command(verb)
    .description(verb === 'complete' ? 'complete a job with a result' : 'fail a job with a reason')
    .argument('<id>')
    .argument('[result]', "result ('-' reads stdin)")
    .option('--file <path>', 'read the result from a file')
    .action(
      act(async (client, json, id: string, result: string | undefined, o: { file?: string }) => {
        await client[verb](id, await data(result, o.file));
        okOut(json);
      }),
    );
}

program
  .command('delete')
  .description('remove a job in whatever state')
  .argument('<id>')
  .action(
    act(async (client, json, id: string) => {
      await client.delete(id);
      okOut(json);
    }),
  );

program
  .command('touch')
  .description("extend a leased job's lease: its TTR clock starts again")
  .argument('<id>')
  .option('--ttr <ms>', "the lease's new length from now (default: the job's TTR)", integer)
  .action(
    act(async (client, json, id: string, o: { ttr?: number }) => {
      await client.touch(id, o.ttr === undefined ? {} : { ttrMs: o.ttr });
      okOut(json);
    }),
  );

for (const verb of ['pause', 'resume'] as const) {
  program
    .command(verb)
    .description(verb === 'pause' ? 'stop leases from taking jobs from a queue (adds still go in)' : 'let leases take jobs from a paused queue again')
    .argument('<name>', 'queue name')
    .addOption(new Option('--on <host:port>', 'this server only (default: every server)'))
    .action(
      act(async (client, json, name: string, o: { on?: string }) => {
        await client[verb](name, o.on === undefined ? {} : { server: o.on });
        okOut(json);
      }),
    );
}

program
  .command('retry')
  .description('start a failed job over: new, counters 0, result dropped')
  .argument('<id>')
  .action(
    act(async (client, json, id: string) => {
      await client.retry(id);
      okOut(json);
    }),
  );

program
  .command('retry-failed')
  .description('start every failed job of a queue over; prints how many')
  .argument('<name>', 'queue name')
  .addOption(new Option('--on <host:port>', 'this server only (default: every server)'))
  .action(
    act(async (client, json, name: string, o: { on?: string }) => {
      const retried = await client.retryFailed(name, o.on === undefined ? {} : { server: o.on });
      print(json ? JSON.stringify({ retried }) : `retried ${retried}`);
    }),
  );

const inspect = program
  .command('inspect')
  .description('look at jobs, queues and servers')
  .addOption(new Option('--on <host:port>', 'ask this server only (default: all, summed or listed)'));

function on(): { server?: string } {
  const server = inspect.opts<{ on?: string }>().on;
  return server === undefined ? {} : { server };
}

inspect
  .command('job')
  .argument('<id>')
  .action(
    act(async (client, json, id: string) => {
      const job = await client.inspectJob(id);
      print(json ? JSON.stringify(jobJson(job)) : jobText(job));
    }),
  );

const LISTS = { jobs: 'ready', 'scheduled-jobs': 'scheduled', 'leased-jobs': 'leased', 'completed-jobs': 'completed', 'failed-jobs': 'failed' } as const;

for (const [what, state] of Object.entries(LISTS) as [keyof typeof LISTS, (typeof LISTS)[keyof typeof LISTS]][]) {
  inspect
    .command(what)
    .argument('<name>', 'queue name')
    .option('--offset <n>', 'skip this many', integer, 0)
    .option('--limit <n>', 'at most this many, 1 to 100', integer, 100)
    .action(
      act(async (client, json, name: string, o: { offset: number; limit: number }) => {
        const page = { ...on(), offset: o.offset, limit: o.limit };
        const jobs = await client.inspectJobsByState(name, state, page);
        if (json) print(JSON.stringify(jobs.map(jobJson)));
        else print(jobs.length === 0 ? '(no jobs)' : jobs.map(jobText).join('\n\n'));
      }),
    );
}

inspect
  .command('queue')
  .argument('<name>')
  .action(
    act(async (client, json, name: string) => {
      queuesOut([await client.inspectQueue(name, on())], json);
    }),
  );

inspect
  .command('queues')
  .option('--offset <n>', 'skip this many', integer, 0)
  .option('--limit <n>', 'at most this many, 1 to 100', integer, 100)
  .action(
    act(async (client, json, o: { offset: number; limit: number }) => {
      queuesOut(await client.inspectQueues({ ...on(), offset: o.offset, limit: o.limit }), json);
    }),
  );

inspect.command('server').action(
  act(async (client, json) => {
    const { server } = on();
    const infos = server === undefined ? await client.inspectServers() : [await client.inspectServer({ server })];
    if (json) print(JSON.stringify(infos.length === 1 ? infos[0] : infos));
    else print(infos.map(serverText).join('\n\n'));
  }),
);

program.exitOverride((error) => {
  process.exit(error.exitCode === 0 ? 0 : EXIT.usage);
});

await program.parseAsync(process.argv);
